// The retained messages of this node, one per topic [MQTT-3.3.1-5].
//
// Shared by every shard (a retained PUBLISH on any shard writes it, a SUBSCRIBE on any shard
// reads it) and by the cluster and admin threads, so it is the one broker structure guarded by a
// mutex: reads take it shared. Subscribes and retained publishes are rare next to plain
// publishes, so the lock is off the hot path. Topics are kept in a level tree, so matching a
// filter walks only the branches the filter can reach.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "broker/message.h"

namespace meshmq::broker {

class RetainedStore {
 public:
  struct Options {
    std::size_t max_messages = 0;  // 0 = unlimited
    // Wall clock in ms since the Unix epoch, compared with Message::expiry_at_ms. Injectable for
    // tests; empty = std::chrono::system_clock.
    std::function<int64_t()> now_ms;
  };

  RetainedStore() : RetainedStore(Options{}) {}
  explicit RetainedStore(Options options);
  ~RetainedStore();
  RetainedStore(const RetainedStore&) = delete;
  RetainedStore& operator=(const RetainedStore&) = delete;

  // Stores `msg` under msg->topic, replacing any previous one [MQTT-3.3.1-5]; an empty payload
  // deletes the topic instead and is not stored [MQTT-3.3.1-6], [MQTT-3.3.1-7]. Returns whether
  // the store changed: false for a null message, for deleting an absent topic, and for a new
  // topic beyond max_messages (the store is then left unchanged; replacing stays allowed).
  bool Set(MessagePtr msg);
  // Set, unless the held message is newer by (timestamp_ms, origin_node): for replicated updates.
  bool SetIfNewer(MessagePtr msg);
  // The message for exactly `topic`, or null when absent or expired.
  MessagePtr Get(std::string_view topic) const;
  bool Remove(std::string_view topic);

  // Calls fn(const MessagePtr&) for every unexpired message whose topic matches `filter`, with
  // the same rules as subscriptions: a '+' or '#' first level does not match '$' topics
  // [MQTT-4.7.2-1]. The matches are collected under the lock and fn runs after it is released,
  // so fn may call back into the store. Order is unspecified.
  void Match(std::string_view filter, const std::function<void(const MessagePtr&)>& fn) const;
  std::vector<MessagePtr> Match(std::string_view filter) const;

  // Admin listing: unexpired messages whose topic starts with `prefix` (a plain string prefix,
  // not level-aligned), sorted by topic, skipping `offset` and returning at most `limit`.
  std::vector<MessagePtr> List(std::string_view prefix, std::size_t offset,
                               std::size_t limit) const;

  // Drops every message with expiry_at_ms < now_ms; returns how many. Until purged, expired
  // messages are hidden from Get/Match/List but still counted by size() and Bytes().
  std::size_t PurgeExpired(int64_t now_ms);

  std::size_t size() const;
  // Topic + payload bytes held, for metrics.
  std::size_t Bytes() const;

 private:
  struct Node {
    absl::flat_hash_map<std::string, std::unique_ptr<Node>> children;
    MessagePtr msg;
  };

  static std::size_t CostOf(const Message& m) { return m.topic.size() + m.payload.size(); }
  static bool Live(const MessagePtr& m, int64_t now_ms) {
    return m && !(m->expiry_at_ms && *m->expiry_at_ms < now_ms);
  }
  // Appends every live message in the subtree at `node`, itself included. At the root, topics
  // starting with '$' are left out when `skip_dollar` [MQTT-4.7.2-1].
  static void CollectSubtree(const Node* node, bool skip_dollar, int64_t now_ms,
                             std::vector<MessagePtr>& out);
  int64_t Now() const;
  // The node for exactly `topic`, or null. Const and mutable walks share this one body.
  template <class NodeT>
  static NodeT* FindIn(NodeT* root, std::string_view topic);
  bool Delete(std::string_view topic) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool SetLocked(MessagePtr msg) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CollectMatches(std::string_view filter, int64_t now_ms, std::vector<MessagePtr>& out) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const Options options_;
  mutable absl::Mutex mu_;
  Node root_ ABSL_GUARDED_BY(mu_);
  std::size_t count_ ABSL_GUARDED_BY(mu_) = 0;
  std::size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace meshmq::broker
