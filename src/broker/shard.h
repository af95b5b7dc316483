// One worker of the broker: an io_context run by exactly one thread, the connections and sessions
// that live on it, and its own subscription index. Shards share nothing mutable on the publish
// path; they talk by posting tasks to each other (see docs/architecture.md).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "absl/container/flat_hash_map.h"
#include "broker/filter_trie.h"
#include "broker/message.h"
#include "broker/routes.h"
#include "broker/session.h"
#include "broker/shared_picker.h"
#include "broker/stats.h"

namespace meshmq::broker {

class Broker;
class Client;

// How a message entered this node: published by a local client (route everywhere) or forwarded
// by a peer or another shard (deliver on this node only).
struct RouteScope {
  bool include_remote = true;    // also forward to other nodes
  bool include_shards = true;    // also post to other shards
  bool to_subscribers = true;    // deliver to ordinary subscriptions
  bool all_shared = true;        // pick a member for every matching shared group
  std::vector<std::string> shared_filters;  // else only these "$share/g/f" groups
};

class Shard {
 public:
  Shard(Broker& broker, int index, boost::asio::io_context& io);
  ~Shard();

  Broker& broker() { return broker_; }
  int index() const { return index_; }
  boost::asio::io_context& io() { return io_; }
  Stats& stats() { return stats_; }

  // Connections.
  void AddClient(Client* client);
  void RemoveClient(Client* client);
  Client* FindClient(uint64_t id);
  uint64_t NextClientId() { return (uint64_t(index_) << 48) | ++client_seq_; }
  template <typename F> void ForEachClient(F&& fn) { for (auto& [id, c] : clients_) fn(*c); }

  // Sessions homed on this shard.
  Session* FindSession(const std::string& client_id);
  Session& CreateSession(const std::string& client_id);
  // Unsubscribes everything and drops the session; release_id also gives up its client id.
  void DestroySession(Session& session, bool release_id = true);
  // Removes the session from this shard and returns its state (for a takeover elsewhere).
  SessionState ExtractSession(Session& session);
  template <typename F> void ForEachSession(F&& fn) { for (auto& [id, s] : sessions_) fn(*s); }
  // Arms the expiry timer of a session that just went offline.
  void ScheduleExpiry(Session& session);

  // Subscriptions. Returns true when the session already had this filter (replaced).
  bool Subscribe(Session& session, const StoredSubscription& sub);
  bool Unsubscribe(Session& session, const std::string& filter);

  // Routing. Route returns whether any subscriber (here, on a shard or a node) was found.
  bool Route(const MessagePtr& msg, const RouteScope& scope);
  void Deliver(Session& session, Delivery delivery);
  void PublishWill(const codec::Will& will, const std::string& client_id);

  // Route tables fed by other shards and by the cluster.
  void ApplyShardRoute(int shard, const std::string& filter, bool add);
  void ApplyRemoteRoute(const std::string& node, const std::string& filter, bool add);
  void DropNode(const std::string& node);
  size_t RemoteRouteCount() const;
  // node -> filters it announced (read on this shard's thread, e.g. by the admin API).
  const absl::flat_hash_map<std::string, std::vector<std::string>>& remote_filters() const {
    return remote_filters_;
  }
  size_t LocalFilterCount() const { return local_.size(); }

 private:
  void AddSubscriber(Session& session, const StoredSubscription& sub);
  void RemoveSubscriber(Session& session, const std::string& filter);
  void AnnounceRoute(const std::string& filter, bool add, bool node_level);
  // Adds the ordinary subscribers of one matched filter to matches_.
  void CollectPlain(const Message& msg, const LocalSubscribers& entry);
  // Delivers one copy per session in matches_ (overlapping subscriptions merged).
  bool DeliverMatches(const MessagePtr& msg);
  // Delivers to member `pick` of a local group (or the next online one after it).
  bool DeliverToSharedMember(const MessagePtr& msg, const std::string& key,
                             const std::string& group, std::optional<size_t> pick);
  void OnSessionExpired(const std::string& client_id);

  Broker& broker_;
  int index_;
  boost::asio::io_context& io_;
  Stats stats_;
  uint64_t client_seq_ = 0;
  absl::flat_hash_map<uint64_t, Client*> clients_;
  absl::flat_hash_map<std::string, std::unique_ptr<Session>> sessions_;

  FilterTrie<LocalSubscribers> local_;          // inner filter -> subscribers here
  FilterTrie<RouteTargets<int>> shard_routes_;  // inner filter -> other shards
  FilterTrie<RouteTargets<std::string>> remote_routes_;  // inner filter -> other nodes
  absl::flat_hash_map<std::string, std::vector<std::string>> remote_filters_;  // node -> filters
  absl::flat_hash_map<std::string, SharedPicker> pickers_;  // "$share/g/f" -> picker

  // Scratch space reused by Route to avoid allocating per message.
  std::vector<std::pair<Session*, SubOptions>> matches_;
};

}  // namespace meshmq::broker
