#include "cluster/forward_lane.h"

#include <utility>

namespace meshmq::cluster {

ForwardLane::ForwardLane(std::string node_id, size_t budget_bytes)
    : node_id_(std::move(node_id)), budget_(budget_bytes) {}

size_t ForwardLane::ThreadSlot() {
  static std::atomic<size_t> next{0};
  thread_local const size_t slot = next.fetch_add(1, std::memory_order_relaxed) % kSlots;
  return slot;
}

ForwardLane::PushResult ForwardLane::Push(Entry&& entry) {
  Slot& slot = slots_[ThreadSlot()];
  const size_t bytes = entry.bytes;
  PushResult result = PushResult::kQueued;
  if (!open_.load(std::memory_order_acquire)) {
    result = PushResult::kClosed;
  } else if (used_.fetch_add(bytes, std::memory_order_relaxed) + bytes > budget_) {
    used_.fetch_sub(bytes, std::memory_order_relaxed);
    result = PushResult::kFull;
  }
  {
    std::lock_guard<std::mutex> lock(slot.mu);
    if (result != PushResult::kQueued) {
      ++slot.refused;
      return result;
    }
    ++slot.accepted;
    slot.entries.push_back(std::move(entry));
  }
  // After the entry is visible: a writer that armed before draining this slot either sees the
  // entry or has its flag taken here and is woken.
  if (armed_.load(std::memory_order_relaxed) && armed_.exchange(false, std::memory_order_seq_cst)) {
    return PushResult::kQueuedWake;
  }
  return PushResult::kQueued;
}

void ForwardLane::Drain(std::vector<Entry>* out) {
  std::vector<Entry> taken;
  for (Slot& slot : slots_) {
    {
      std::lock_guard<std::mutex> lock(slot.mu);
      if (slot.entries.empty()) continue;
      taken.swap(slot.entries);
    }
    if (out->empty()) {
      out->swap(taken);
    } else {
      for (Entry& e : taken) out->push_back(std::move(e));
    }
    taken.clear();
  }
}

void ForwardLane::SetWaker(std::function<void()> waker) {
  std::lock_guard<std::mutex> lock(waker_mu_);
  waker_ = std::move(waker);
}

void ForwardLane::Wake() {
  std::lock_guard<std::mutex> lock(waker_mu_);
  if (waker_) waker_();
}

template <typename Fn>
uint64_t ForwardLane::SumSlots(Fn fn) const {
  uint64_t n = 0;
  for (const Slot& slot : slots_) {
    std::lock_guard<std::mutex> lock(slot.mu);
    n += fn(slot);
  }
  return n;
}

size_t ForwardLane::Pending() const {
  return SumSlots([](const Slot& s) { return s.entries.size(); });
}

uint64_t ForwardLane::Accepted() const {
  return SumSlots([](const Slot& s) { return s.accepted; });
}

uint64_t ForwardLane::Refused() const {
  return SumSlots([](const Slot& s) { return s.refused; });
}

namespace {

size_t Hash(const std::string& s) { return std::hash<std::string>{}(s); }

}  // namespace

LaneDirectory::LaneDirectory() {
  tables_.push_back(std::make_unique<Table>(16));
  table_.store(tables_.back().get(), std::memory_order_release);
}

LaneDirectory::~LaneDirectory() = default;

ForwardLane* LaneDirectory::Find(const std::string& node_id) const {
  const Table* t = table_.load(std::memory_order_acquire);
  const size_t mask = t->slots.size() - 1;
  for (size_t i = Hash(node_id) & mask;; i = (i + 1) & mask) {
    ForwardLane* lane = t->slots[i].load(std::memory_order_acquire);
    if (lane == nullptr) return nullptr;  // tables are never more than half full
    if (lane->node_id() == node_id) return lane;
  }
}

void LaneDirectory::Place(Table& t, ForwardLane* lane) {
  const size_t mask = t.slots.size() - 1;
  size_t i = Hash(lane->node_id()) & mask;
  while (t.slots[i].load(std::memory_order_relaxed) != nullptr) i = (i + 1) & mask;
  t.slots[i].store(lane, std::memory_order_release);
}

ForwardLane* LaneDirectory::Insert(const std::string& node_id, size_t budget_bytes) {
  if (ForwardLane* lane = Find(node_id)) return lane;
  owned_.push_back(std::make_unique<ForwardLane>(node_id, budget_bytes));
  ForwardLane* lane = owned_.back().get();
  Table* t = table_.load(std::memory_order_relaxed);
  if (owned_.size() * 2 > t->slots.size()) {
    // Build the bigger table completely before publishing it.
    tables_.push_back(std::make_unique<Table>(t->slots.size() * 2));
    Table* bigger = tables_.back().get();
    for (const auto& l : owned_) Place(*bigger, l.get());
    table_.store(bigger, std::memory_order_release);
  } else {
    Place(*t, lane);
  }
  return lane;
}

}  // namespace meshmq::cluster
