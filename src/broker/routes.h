// Per-filter values held in a shard's tries.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "broker/lazy_map.h"
#include "broker/small_map.h"

namespace meshmq::broker {

struct Session;

// Options of one subscription as the router needs them.
struct SubOptions {
  uint8_t qos = 0;
  bool no_local = false;
  bool retain_as_published = false;
  uint32_t subscription_id = 0;
  // ACL generation + 1 under which the rules let every topic of this filter through, so no
  // per-message check is needed; 0 = check each message (Acl::MayReceive).
  uint64_t acl_all_generation = 0;
};

struct SharedMember {
  Session* session = nullptr;
  SubOptions options;
};

// Local subscribers of one filter on this shard: ordinary and per shared group.
struct LocalSubscribers {
  SmallMap<Session*, SubOptions> plain;  // usually one: inline, no heap block
  LazyMap<std::string, std::vector<SharedMember>> shared;  // group -> members (most have none)
  bool empty() const { return plain.empty() && shared.empty(); }
};

// Where else a filter has subscribers: other shards (T = shard index) or other nodes
// (T = node id). Ordinary subscriptions and shared groups are kept apart; a shared group keeps
// each target's member count so a pick among all members cluster-wide stays even.
template <typename T>
struct RouteTargets {
  struct Weighted {
    T target;
    int members;
  };
  // Shard indexes: inline up to 4 shards (one other shard per filter is the usual case), so a
  // route entry of another shard allocates nothing besides its trie node.
  using Targets = std::conditional_t<std::is_same_v<T, int>, absl::InlinedVector<int, 4>,
                                     std::vector<T>>;
  Targets plain;
  LazyMap<std::string, std::vector<Weighted>> shared;  // group -> targets (most have none)

  template <typename Vec>
  static void AddTo(Vec& v, const T& t) {
    if (std::find(v.begin(), v.end(), t) == v.end()) v.push_back(t);
  }
  static void RemoveFrom(Targets& v, const T& t) {
    v.erase(std::remove(v.begin(), v.end(), t), v.end());
  }
  // Ordinary filters: presence. Shared groups: `members` is added to the target's count
  // (a node announces a group once, with weight 1).
  void Add(const std::string& group, const T& t, int members = 1) {
    if (group.empty()) {
      AddTo(plain, t);
      return;
    }
    auto& targets = shared[group];
    for (auto& w : targets) {
      if (w.target == t) {
        w.members += members;
        return;
      }
    }
    targets.push_back(Weighted{t, members});
  }
  void Remove(const std::string& group, const T& t, bool all = true) {
    if (group.empty()) {
      RemoveFrom(plain, t);
      return;
    }
    auto it = shared.find(group);
    if (it == shared.end()) return;
    auto& targets = it->second;
    for (size_t i = 0; i < targets.size(); ++i) {
      if (targets[i].target != t) continue;
      if (all || --targets[i].members <= 0) targets.erase(targets.begin() + i);
      break;
    }
    if (targets.empty()) shared.erase(it);
  }
  bool empty() const { return plain.empty() && shared.empty(); }
};

}  // namespace meshmq::broker
