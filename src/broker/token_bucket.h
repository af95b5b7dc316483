// A token bucket that may go into debt: Take() always succeeds and subtracts, and Wait() says how
// long until the balance is back to zero. Callers spend first and pause afterwards, so a burst
// of work already read (packets decoded from one socket read) is never thrown away, and the
// long-run rate still equals `rate` exactly.
//
// Not thread-safe: each bucket belongs to one thread (a client's shard, or a listener's accept
// loop on shard 0). Time is passed in so tests control it.
#pragma once

#include <algorithm>
#include <chrono>

namespace meshmq::broker {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  TokenBucket() = default;
  // `rate` tokens per second; `burst` tokens may be spent at once after a quiet period. A rate of
  // 0 means unlimited (the bucket never waits).
  TokenBucket(double rate, double burst)
      : rate_(rate), burst_(std::max(burst, 1.0)), tokens_(burst_) {}

  bool unlimited() const { return rate_ <= 0; }

  void Take(Clock::time_point now, double cost) {
    if (unlimited()) return;
    Refill(now);
    tokens_ -= cost;
  }

  // Zero when the balance is not negative, else the time until it is.
  Clock::duration Wait(Clock::time_point now) {
    if (unlimited()) return Clock::duration::zero();
    Refill(now);
    if (tokens_ >= 0) return Clock::duration::zero();
    return std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(-tokens_ / rate_));
  }

  double tokens() const { return tokens_; }

 private:
  void Refill(Clock::time_point now) {
    if (last_ == Clock::time_point{}) last_ = now;
    double elapsed = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    if (elapsed > 0) tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
  }

  double rate_ = 0;
  double burst_ = 1;
  double tokens_ = 1;
  Clock::time_point last_{};
};

}  // namespace meshmq::broker
