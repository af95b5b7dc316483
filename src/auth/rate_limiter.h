// Failed-login rate limiting per client address.
//
// Policy: `max_failures` failures within `window` block the address for `initial_backoff`.
// After a block, each further failure blocks again for twice as long, up to `max_backoff`,
// until the address has had no failure for `forget_after` (or logs in successfully). Blocked
// attempts are refused before any password hashing, so a brute-force client cannot make the
// broker burn CPU on PBKDF2 either.
//
// Thread-safe: called from every shard's CONNECT handling; one mutex, held for a map lookup.
// Memory is bounded: at most `max_entries` addresses, least recently seen evicted first.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace meshmq::auth {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    int max_failures = 5;
    Clock::duration window = std::chrono::seconds(60);
    Clock::duration initial_backoff = std::chrono::seconds(15);
    Clock::duration max_backoff = std::chrono::minutes(5);
    Clock::duration forget_after = std::chrono::minutes(10);
    size_t max_entries = 10000;
  };

  RateLimiter() : RateLimiter(Options{}) {}
  explicit RateLimiter(Options options) : options_(options) {}

  // False while `address` is blocked.
  bool AllowAttempt(std::string_view address, Clock::time_point now);
  void RecordFailure(std::string_view address, Clock::time_point now);
  void RecordSuccess(std::string_view address);

  size_t size() const;

 private:
  struct Entry {
    std::string address;
    Clock::time_point window_start{};
    int failures = 0;  // in the current window
    int blocks = 0;    // consecutive blocks; sets the next backoff
    Clock::time_point blocked_until{};
    Clock::time_point last_failure{};
  };
  using List = std::list<Entry>;  // most recently seen first

  Entry& Touch(std::string_view address) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Clock::duration Backoff(int blocks) const;

  const Options options_;
  mutable absl::Mutex mu_;
  List lru_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<std::string_view, List::iterator> index_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meshmq::auth
