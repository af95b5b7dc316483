// Picks which member of a shared subscription group receives a message [MQTT-4.8.2].
//
// One picker per "$share/{group}/{filter}" on the shard that delivers to the group; touched by
// that shard's thread only. The hash strategy must give the same answer on every cluster node
// for the same publisher and member count, so it uses FNV-1a rather than std::hash (whose value
// is unspecified and differs between standard libraries).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace meshmq::broker {

enum class SharedStrategy { kRoundRobin, kRandom, kHashClientId };

// Accepts the config names "round_robin", "random" and "hash_client_id" (case-sensitive).
// Returns false and leaves `out` untouched for anything else.
bool ParseSharedStrategy(std::string_view name, SharedStrategy& out);
std::string_view SharedStrategyName(SharedStrategy strategy);

// 64-bit FNV-1a: stable across processes, platforms and releases.
uint64_t Fnv1a64(std::string_view data);

class SharedPicker {
 public:
  // `seed` drives kRandom only; fixed seeds make tests reproducible.
  explicit SharedPicker(SharedStrategy strategy = SharedStrategy::kRoundRobin, uint64_t seed = 0);

  // Index in [0, member_count) of the member to deliver to; 0 when member_count is 0 (the caller
  // has nobody to deliver to and must not index with it). kRoundRobin cycles through the
  // indexes; kRandom is uniform; kHashClientId depends only on the publisher's client id and
  // member_count, so one publisher's messages stay in order on one member.
  std::size_t Pick(std::size_t member_count, std::string_view publisher_client_id);

  SharedStrategy strategy() const { return strategy_; }

 private:
  uint64_t NextRandom();

  SharedStrategy strategy_;
  uint64_t next_ = 0;  // round-robin position
  uint64_t rng_;       // splitmix64 state
};

}  // namespace meshmq::broker
