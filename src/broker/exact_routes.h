// Which other shards of this node subscribe to an exact topic filter (no '+', no '#', no
// "$share/"): a hash set of the filters' 64-bit hashes, each with a bitmask of shards.
//
// Why not the route trie for these: most subscriptions are exact topics ("each device its own
// topic"), and every filter a shard holds used to cost a trie node on every other shard (a node
// and key block of ~80 bytes, its slot, the child map's growth: ~110 bytes per filter per other
// shard). Here an entry is 16 bytes in a flat table and keeps no copy of the filter: a shard
// only needs to know whether to post a publish to another shard, and that shard matches the
// topic against its own subscriptions, which are authoritative. So a hash collision between two
// different filters costs at worst one needless posted task (the other shard finds nobody), never
// a lost or wrong delivery, as long as the counts below stay exact.
//
// Counting: every shard announces a filter once when it gets its first local subscriber and
// withdraws it once when it loses the last one (shard.cc, AnnounceRoute), so adds and removes of
// one (filter, shard) pair alternate. Two different filters of one shard with the same hash both
// set the same bit; the second add is counted in `extra_` (practically always empty) so that the
// bit stays set until both are withdrawn.
//
// A publish of an exact topic costs one hash of the topic and one probe. Shards with an index of
// kMaxShards or more are not representable in the mask: the caller keeps their filters in the
// trie. Touched only by the owning shard's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace meshmq::broker {

class ExactRoutes {
 public:
  static constexpr int kMaxShards = 64;
  using HashFn = uint64_t (*)(std::string_view);

  // `hash`: tests pass one that collides on purpose.
  explicit ExactRoutes(HashFn hash = &HashOf) : hash_(hash) {}

  // True when `filter` (as subscribed, "$share/..." included) can be kept here: no wildcard
  // level and not a shared subscription (those keep per-group weights in the trie).
  static bool IsExact(std::string_view filter) {
    return filter.find_first_of("+#") == std::string_view::npos && !filter.starts_with("$share/");
  }

  static uint64_t HashOf(std::string_view topic) {
    return absl::Hash<absl::string_view>{}(absl::string_view(topic.data(), topic.size()));
  }

  // `shard` < kMaxShards now has `filter`.
  void Add(std::string_view filter, int shard) {
    uint64_t h = hash_(filter);
    uint64_t bit = uint64_t{1} << shard;
    uint64_t& mask = masks_[h];
    if (mask & bit) {
      ++extra_[{h, shard}];  // another filter of this shard with the same hash
      return;
    }
    mask |= bit;
  }

  // `shard` no longer has `filter` (which it added before).
  void Remove(std::string_view filter, int shard) {
    uint64_t h = hash_(filter);
    if (!extra_.empty()) {
      auto e = extra_.find(std::pair<uint64_t, int>{h, shard});
      if (e != extra_.end()) {
        if (--e->second == 0) extra_.erase(e);
        return;
      }
    }
    auto it = masks_.find(h);
    if (it == masks_.end()) return;
    it->second &= ~(uint64_t{1} << shard);
    if (it->second == 0) masks_.erase(it);
  }

  // Bitmask of the shards that may hold an exact filter equal to `topic` (0 = none).
  uint64_t Match(std::string_view topic) const {
    if (masks_.empty()) return 0;
    auto it = masks_.find(hash_(topic));
    return it == masks_.end() ? 0 : it->second;
  }

  std::size_t size() const { return masks_.size(); }
  bool empty() const { return masks_.empty(); }

 private:
  HashFn hash_;
  absl::flat_hash_map<uint64_t, uint64_t> masks_;  // filter hash -> shards
  absl::flat_hash_map<std::pair<uint64_t, int>, int> extra_;  // (hash, shard) -> colliding adds
};

}  // namespace meshmq::broker
