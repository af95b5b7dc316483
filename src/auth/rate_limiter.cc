#include "auth/rate_limiter.h"

#include <algorithm>

namespace meshmq::auth {

RateLimiter::Clock::duration RateLimiter::Backoff(int blocks) const {
  Clock::duration backoff = options_.initial_backoff;
  for (int i = 1; i < blocks && backoff < options_.max_backoff; ++i) backoff *= 2;
  return std::min(backoff, options_.max_backoff);
}

RateLimiter::Entry& RateLimiter::Touch(std::string_view address) {
  if (const auto it = index_.find(address); it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);  // iterators and the key view stay valid
    return lru_.front();
  }
  if (lru_.size() >= options_.max_entries && !lru_.empty()) {
    index_.erase(lru_.back().address);
    lru_.pop_back();
  }
  lru_.push_front(Entry{.address = std::string(address)});
  index_.emplace(lru_.front().address, lru_.begin());
  return lru_.front();
}

bool RateLimiter::AllowAttempt(std::string_view address, Clock::time_point now) {
  absl::MutexLock lock(&mu_);
  const auto it = index_.find(address);
  if (it == index_.end()) return true;
  return now >= it->second->blocked_until;
}

void RateLimiter::RecordFailure(std::string_view address, Clock::time_point now) {
  if (options_.max_entries == 0) return;
  absl::MutexLock lock(&mu_);
  Entry& e = Touch(address);
  if (e.failures + e.blocks > 0 && now - e.last_failure >= options_.forget_after) {
    e.failures = 0;  // quiet long enough: start over (address untouched: index_ views it)
    e.blocks = 0;
    e.blocked_until = {};
  }
  e.last_failure = now;
  if (now < e.blocked_until) return;  // refused attempts do not extend the block
  if (e.failures == 0 || now - e.window_start >= options_.window) {
    e.window_start = now;
    e.failures = 0;
  }
  ++e.failures;
  // Once blocked, every further failure blocks again (longer) until the address is forgotten.
  if (e.failures >= options_.max_failures || e.blocks > 0) {
    ++e.blocks;
    e.blocked_until = now + Backoff(e.blocks);
    e.failures = 0;
  }
}

void RateLimiter::RecordSuccess(std::string_view address) {
  absl::MutexLock lock(&mu_);
  const auto it = index_.find(address);
  if (it == index_.end()) return;
  const List::iterator entry = it->second;
  index_.erase(it);
  lru_.erase(entry);
}

size_t RateLimiter::size() const {
  absl::MutexLock lock(&mu_);
  return lru_.size();
}

}  // namespace meshmq::auth
