// Cached HTTP auth decisions with a time to live, positive and negative alike.
//
// Thread-safe: looked up from every shard (ACL on PUBLISH) and filled from the backend thread.
// Striped: 16 independent maps, each with its own mutex, so shards rarely meet on a lock and no
// single lock sits on the publish path. Bounded: a full stripe first drops its expired entries,
// then (still full) everything, which is cheap and keeps memory flat under a flood of distinct
// topics.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace meshmq::auth {

struct Decision {
  bool allow = false;
  bool superuser = false;     // login replies only
  bool not_authorized = false;  // login deny: 0x87 instead of 0x86
};

class DecisionCache {
 public:
  using Clock = std::chrono::steady_clock;

  DecisionCache(Clock::duration ttl, size_t max_entries);

  std::optional<Decision> Find(std::string_view key, Clock::time_point now = Clock::now());
  void Put(std::string key, Decision decision, Clock::time_point now = Clock::now());
  bool enabled() const { return ttl_ > Clock::duration::zero(); }
  size_t size() const;

 private:
  static constexpr size_t kStripes = 16;
  struct Entry {
    Decision decision;
    Clock::time_point expires;
  };
  struct Stripe {
    mutable absl::Mutex mu;
    absl::flat_hash_map<std::string, Entry> map ABSL_GUARDED_BY(mu);
  };
  Stripe& StripeFor(std::string_view key);

  const Clock::duration ttl_;
  const size_t max_per_stripe_;
  std::array<Stripe, kStripes> stripes_;
};

}  // namespace meshmq::auth
