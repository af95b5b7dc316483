#include "broker/memory_account.h"

#include <atomic>
#include <cstddef>

namespace meshmq::broker {
namespace {

constexpr size_t kSlots = 64;

struct alignas(64) Slot {
  std::atomic<int64_t> bytes{0};
};

Slot g_slots[kSlots];
std::atomic<size_t> g_next_slot{0};

// Each thread keeps one slot; a slot's value may be negative (bytes charged on one thread and
// released on another), only the sum means anything.
Slot& MySlot() {
  thread_local Slot& slot = g_slots[g_next_slot.fetch_add(1, std::memory_order_relaxed) % kSlots];
  return slot;
}

}  // namespace

void MemoryAccount::Add(int64_t bytes) {
  MySlot().bytes.fetch_add(bytes, std::memory_order_relaxed);
}

int64_t MemoryAccount::Total() {
  int64_t total = 0;
  for (const Slot& slot : g_slots) total += slot.bytes.load(std::memory_order_relaxed);
  return total;
}

}  // namespace meshmq::broker
