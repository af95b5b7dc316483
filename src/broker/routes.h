// Per-filter values held in a shard's tries.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace meshmq::broker {

struct Session;

// Options of one subscription as the router needs them.
struct SubOptions {
  uint8_t qos = 0;
  bool no_local = false;
  bool retain_as_published = false;
  uint32_t subscription_id = 0;
};

struct SharedMember {
  Session* session = nullptr;
  SubOptions options;
};

// Local subscribers of one filter on this shard: ordinary and per shared group.
struct LocalSubscribers {
  absl::flat_hash_map<Session*, SubOptions> plain;
  absl::flat_hash_map<std::string, std::vector<SharedMember>> shared;  // group -> members
  bool empty() const { return plain.empty() && shared.empty(); }
};

// Where else a filter has subscribers: other shards (T = shard index) or other nodes
// (T = node id). Ordinary subscriptions and shared groups are kept apart.
template <typename T>
struct RouteTargets {
  std::vector<T> plain;
  absl::flat_hash_map<std::string, std::vector<T>> shared;  // group -> targets

  static void AddTo(std::vector<T>& v, const T& t) {
    if (std::find(v.begin(), v.end(), t) == v.end()) v.push_back(t);
  }
  static void RemoveFrom(std::vector<T>& v, const T& t) {
    v.erase(std::remove(v.begin(), v.end(), t), v.end());
  }
  void Add(const std::string& group, const T& t) {
    if (group.empty()) AddTo(plain, t); else AddTo(shared[group], t);
  }
  void Remove(const std::string& group, const T& t) {
    if (group.empty()) { RemoveFrom(plain, t); return; }
    auto it = shared.find(group);
    if (it == shared.end()) return;
    RemoveFrom(it->second, t);
    if (it->second.empty()) shared.erase(it);
  }
  bool empty() const { return plain.empty() && shared.empty(); }
};

}  // namespace meshmq::broker
