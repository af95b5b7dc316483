// The node's memory account: bytes of application messages alive in this process (queued for
// offline or slow sessions, in flight, retained, being written). Cheap enough for the publish
// path: a Message carries a MemoryCharge that adds its size when built and subtracts it when the
// last reference goes, into one of several cache-line-sized slots picked per thread, so shards do
// not fight over one counter. Because every charge is undone by its own destructor the account
// cannot drift the way push/pop bookkeeping can.
//
// Process-wide on purpose: it measures this process's memory, whichever Broker made a message.
// Add/Total are safe from any thread; Total is a sum over the slots, read by a sampler.
#pragma once

#include <cstdint>
#include <utility>

namespace meshmq::broker {

class MemoryAccount {
 public:
  static void Add(int64_t bytes);
  static int64_t Total();
};

// RAII share of the account, held by the object whose bytes it counts. Copies charge again.
class MemoryCharge {
 public:
  MemoryCharge() = default;
  explicit MemoryCharge(int64_t bytes) : bytes_(bytes) { MemoryAccount::Add(bytes_); }
  MemoryCharge(const MemoryCharge& other) : MemoryCharge(other.bytes_) {}
  MemoryCharge(MemoryCharge&& other) noexcept : bytes_(std::exchange(other.bytes_, 0)) {}
  MemoryCharge& operator=(MemoryCharge other) noexcept {
    std::swap(bytes_, other.bytes_);
    return *this;
  }
  ~MemoryCharge() {
    if (bytes_ != 0) MemoryAccount::Add(-bytes_);
  }
  int64_t bytes() const { return bytes_; }

 private:
  int64_t bytes_ = 0;
};

// High/low water marks with hysteresis: overloaded from the moment the account reaches `high`
// until it falls below `low`. Updated by one sampler thread, read by every shard.
class MemoryGuard {
 public:
  MemoryGuard(uint64_t high, uint64_t low) : high_(high), low_(low < high ? low : high) {}
  // Returns true when the state changed.
  bool Update(int64_t total) {
    bool over = overloaded_;
    if (!over && total >= static_cast<int64_t>(high_)) over = true;
    if (over && total < static_cast<int64_t>(low_)) over = false;
    bool changed = over != overloaded_;
    overloaded_ = over;
    return changed;
  }
  bool overloaded() const { return overloaded_; }
  uint64_t high() const { return high_; }
  uint64_t low() const { return low_; }

 private:
  uint64_t high_, low_;
  bool overloaded_ = false;
};

}  // namespace meshmq::broker
