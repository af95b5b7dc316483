// One worker of the broker: an io_context run by exactly one thread, the connections and sessions
// that live on it, and its own subscription index. Shards share nothing mutable on the publish
// path; they talk by posting tasks to each other (see docs/architecture.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "broker/bounded_ring.h"
#include "broker/deadline_queue.h"
#include "broker/cluster_port.h"
#include "broker/exact_routes.h"
#include "broker/filter_trie.h"
#include "broker/message.h"
#include "broker/route_inbox.h"
#include "broker/routes.h"
#include "broker/session.h"
#include "broker/shared_picker.h"
#include "broker/stats.h"
#include "broker/storage_port.h"
#include "meshmq/hooks.h"

namespace meshmq::broker {

class Broker;
class Client;

// A publisher's acknowledgement that waits for other shards to store what its PUBLISH gave them
// (storage on): Route counts the shards it posted the message to; each confirms after its commit.
struct StoreWait {
  uint64_t client = 0;  // Client::id() of the publisher
  uint64_t ticket = 0;  // which held acknowledgement of that client
  int shards = 0;       // confirmations to wait for
};

// How a message entered this node: published by a local client (route everywhere) or forwarded
// by a peer or another shard (deliver on this node only).
struct RouteScope {
  bool include_remote = true;    // also forward to other nodes
  bool include_shards = true;    // also post to other shards
  bool to_subscribers = true;    // deliver to ordinary subscriptions
  bool all_shared = true;        // pick a member for every matching shared group
  std::vector<std::string> shared_filters;  // else only these "$share/g/f" groups
  // Kept for late routes (late_routes.cc), which order what this host received. Not for a
  // message forwarded by another node: it was sent here because our route had reached that node
  // already, and cross-node delivery has no receive order to keep.
  bool note_for_late_routes = true;
};

class Shard {
 public:
  Shard(Broker& broker, int index, boost::asio::io_context& io);
  ~Shard();

  Broker& broker() { return broker_; }
  int index() const { return index_; }
  boost::asio::io_context& io() { return io_; }
  Stats& stats() { return stats_; }
  // Counts an overload event; logs it (with `detail`) at most once per kOverloadLogInterval.
  void NoteOverload(OverloadEvent event, std::string_view detail);
  static constexpr std::chrono::seconds kOverloadLogInterval{10};

  // Connections.
  void AddClient(Client* client);
  void RemoveClient(Client* client);
  Client* FindClient(uint64_t id);
  uint64_t NextClientId() { return (uint64_t(index_) << 48) | ++client_seq_; }
  template <typename F> void ForEachClient(F&& fn) { for (auto& [id, c] : clients_) fn(*c); }
  // Calls Client::OnDeadline(deadline) of client `id` (if it still exists) once `deadline` passed.
  void WatchDeadline(uint64_t id, std::chrono::steady_clock::time_point deadline) {
    deadlines_.Watch(id, deadline);
  }
  // Broker stop: no more client deadlines, so the thread can run out of work.
  void StopDeadlines() {
    deadlines_.Stop();
    recent_timer_.cancel();  // late_routes.cc: nothing may keep the io_context busy
  }
  size_t QueuedDeadlines() const { return deadlines_.size(); }  // entries, stale ones included

  // Sessions homed on this shard.
  Session* FindSession(const std::string& client_id);
  Session& CreateSession(const std::string& client_id);
  // Unsubscribes everything and drops the session; release_id also gives up its client id.
  void DestroySession(Session& session, bool release_id = true);
  // Removes the session from this shard and returns its state (for a takeover elsewhere).
  SessionState ExtractSession(Session& session);
  // Like ExtractSession for a takeover by another node, but the session stays as a forwarding
  // tombstone (SessionRare::moved_to) until that node's routes for it are visible here plus a grace
  // period: messages already on their way here are passed on instead of lost (session_move.cc).
  SessionState MoveSession(Session& session, const std::string& to_node);
  // A message the old owner of a session passed on after it moved here; waits briefly if the
  // session is still being imported (the takeover reply travels on another stream).
  void DeliverMovedIn(const std::string& client_id, Delivery delivery, std::function<void()> done);
  template <typename F> void ForEachSession(F&& fn) { for (auto& s : sessions_) fn(*s); }
  // Arms the expiry timer of a session that just went offline (after its full interval, or
  // after `after` for a session restored from the store).
  void ScheduleExpiry(Session& session,
                      std::optional<std::chrono::milliseconds> after = std::nullopt);
  // Re-creates a session read from the store at start (before the shard threads run): its
  // subscriptions are indexed so messages published while its client is away queue up.
  void RestoreSession(LoadedSession loaded);

  // Subscriptions. Returns true when the session already had this filter (replaced).
  bool Subscribe(Session& session, const StoredSubscription& sub);
  bool Unsubscribe(Session& session, const std::string& filter);

  // Routing. Route returns whether any subscriber (here, on a shard or a node) was found.
  // `wait` (storage on): other shards given a QoS 1/2 message confirm their commit to it.
  bool Route(const MessagePtr& msg, const RouteScope& scope, StoreWait* wait = nullptr);
  // Routes part of a batch forwarded by another node (never forwarded again). What other shards
  // must deliver is posted as one task per shard after the whole part, not one per message.
  // `unbuilt` builds the part's items whose msg is null; `placement` (may be null) learns which
  // shard the part's topics should go to first.
  void RouteForwarded(std::vector<RemoteDelivery>& part, const UnbuiltMessages* unbuilt,
                      ForwardPlacement* placement);
  // While one is open (on this shard's thread), the messages Route hands to other shards are
  // collected and posted as one task per shard when the outermost batch closes: one lock of the
  // other shard's queue and at most one wake-up of its thread, instead of one per message. Open
  // around one read of a client (Client::OnBytes: every PUBLISH decoded from it) and one
  // forwarded part. Each shard's list keeps routing order; a hand-off that must not wait (a
  // QoS 1/2 message whose ack waits for the other shard's commit) posts the list first.
  // Posts what open batches collected so far (before a task to another shard that must not
  // overtake them, e.g. a session takeover).
  void FlushHandoffs();
  class HandoffBatch {
   public:
    explicit HandoffBatch(Shard& shard) : shard_(shard), outer_(!shard.batching_) {
      shard_.batching_ = true;
    }
    ~HandoffBatch();
    HandoffBatch(const HandoffBatch&) = delete;
    HandoffBatch& operator=(const HandoffBatch&) = delete;

   private:
    Shard& shard_;
    bool outer_;
  };
  // passed_on: the message came from the node this session moved away from (DeliverMovedIn).
  void Deliver(Session& session, Delivery delivery, bool passed_on = false);
  void PublishWill(const codec::Will& will, const std::string& client_id);
  // A retained message that a SUBSCRIBE just sent (DeliverRetained) can also reach the session
  // live: its publisher's shard stored it, then saw the new route (route_inbox.h) before routing.
  // The live copy of that same message is skipped. Only with several shards; entries live
  // kRetainedSentMs and are bounded, so an empty list costs one check per routed message.
  // Late deliveries (late_routes.cc) are noted and checked here too.
  void NoteRetainedSent(const Session& session, const MessagePtr& msg);

  // ACL on the delivery side (acl_filter.cc), through the delivery-ACL hooks (the built-in ACL).
  // A subscription they grant only in part ("#" under "deny secret/#") is checked message by
  // message; one they grant in full is not.
  // AclAllGeneration: the value for SubOptions::acl_all_generation of a new subscription.
  uint64_t AclAllGeneration(const Session& session, std::string_view filter);
  bool MayDeliver(const Session& session, const SubOptions& options, std::string_view topic);
  // Deliver hooks (hook_calls.cc): false when one of them skipped this subscriber.
  bool DeliverHooks(const Session& session, const Delivery& delivery);
  static meshmq::ClientInfo HookInfoOf(const Session& session);  // a subscriber as hooks see it

  // Route tables fed by other shards and by the cluster. Shards announce to each other through
  // route_inbox_ (route_inbox.h), applied before each publish is routed.
  void ApplyShardRoute(int shard, const std::string& filter, bool add);
  void ApplyRouteInbox();
  // Late routes (late_routes.cc). A SUBSCRIBE that reached the host before a PUBLISH read on
  // another shard can still be announced after that shard routed it: the subscriber's shard
  // thread may not have run yet (a single-threaded broker reads sockets in arrival order). The
  // publishing shard keeps what it routed lately (NoteRouted) and, when the route arrives,
  // sends what it received after the SUBSCRIBE to the subscriber's shard (CatchUpRoute), which
  // delivers it to that filter's subscribers (DeliverLate).
  void CatchUpRoute(int shard, const std::string& filter, int64_t subscribed_ns);
  void DeliverLate(const MessagePtr& msg, const std::string& filter);
  void ApplyRemoteRoute(const std::string& node, const std::string& filter, bool add);
  void DropNode(const std::string& node);
  size_t RemoteRouteCount() const;
  // node -> filters it announced (read on this shard's thread, e.g. by the admin API).
  const absl::flat_hash_map<std::string, std::vector<std::string>>& remote_filters() const {
    return remote_filters_;
  }
  size_t LocalFilterCount() const { return local_.size(); }

  // --- Persistence (shard_store.cc). Every call is a no-op when the broker has no store.
  // The store with a commit of this shard's batch scheduled for the end of this turn; nullptr
  // when nothing is stored.
  StoragePort* Batch();
  // Brings the store in line with a session whose connection or lifetime just changed (CONNECT,
  // DISCONNECT, connection loss): writes it when persistent (everything the first time), deletes
  // it when it no longer is.
  void SyncSessionToStore(Session& session);
  // A QoS 1/2 message of a stored session: queued (packet_id 0) or in flight.
  void StoreMessage(Session& session, uint16_t packet_id, bool pubrec_received, Delivery& delivery);
  void UnstoreMessage(Session& session, const Delivery& delivery);
  // Deletes everything stored of the session (it ends, or moves to another shard or node).
  void UnstoreSession(Session& session);
  // Group commit: writes this shard's batch, then runs what waited for it (held acks of clients,
  // confirmations to other shards). Runs once per turn through ScheduleCommit, or at once when
  // a caller must not proceed before its writes are durable (SUBACK, takeover).
  void ScheduleCommit();
  void CommitNow();
  // Runs the scheduled commit after the handlers already queued, without waiting for the delay.
  void PostCommit();
  // After the next commit, tells client `client` on shard `origin` that its held ack `ticket`
  // no longer waits for this shard. Confirmations to one shard travel as one task per commit.
  void ConfirmAfterCommit(int origin, uint64_t client, uint64_t ticket);
  // Client `client_id` holds acknowledgements until the next commit.
  void WaitForCommit(uint64_t client_id);
  uint64_t commit_epoch() const { return commit_epoch_; }

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
  void CheckMovedSession(const std::string& client_id);
  void AwaitMoveBarrier(Session& session);  // sets moved_barrier_passed when it passes
  // For a tombstone: passes the delivery on and returns false. Within move_dedup: false for the
  // second copy of a message. Else true: deliver.
  bool AdmitAfterMove(Session& session, Delivery& delivery, bool passed_on);
  void FlushMovedIn(const std::string& client_id);

  Broker& broker_;
  int index_;
  boost::asio::io_context& io_;
  Stats stats_;
  std::chrono::steady_clock::time_point overload_logged_[static_cast<int>(OverloadEvent::kCount)]{};
  uint64_t client_seq_ = 0;
  absl::flat_hash_map<uint64_t, Client*> clients_;
  DeadlineQueue deadlines_;  // connect and keep-alive deadlines of clients_
  // Found by Session::client_id, which never changes: a set of owning pointers hashed on it is an
  // 8-byte slot per session (a map keyed by a view of the id was 24).
  struct SessionIdHash {
    using is_transparent = void;
    size_t operator()(std::string_view id) const {
      return absl::Hash<absl::string_view>{}(absl::string_view(id.data(), id.size()));
    }
    size_t operator()(const std::unique_ptr<Session>& s) const { return (*this)(s->client_id); }
  };
  struct SessionIdEq {
    using is_transparent = void;
    static std::string_view Id(std::string_view id) { return id; }
    static std::string_view Id(const std::unique_ptr<Session>& s) { return s->client_id; }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return Id(a) == Id(b);
    }
  };
  absl::flat_hash_set<std::unique_ptr<Session>, SessionIdHash, SessionIdEq> sessions_;

  FilterTrie<LocalSubscribers> local_;          // inner filter -> subscribers here
  // Other shards' filters: exact topics in a hash index (exact_routes.h), the rest (wildcards,
  // shared groups) in a trie.
  ExactRoutes shard_exact_;
  FilterTrie<RouteTargets<int>> shard_routes_;  // inner filter -> other shards
  RouteInbox route_inbox_;                      // changes to shard_routes_ not applied yet
  FilterTrie<RouteTargets<std::string>> remote_routes_;  // inner filter -> other nodes
  absl::flat_hash_map<std::string, std::vector<std::string>> remote_filters_;  // node -> filters
  // Other nodes' exact filters, as for shard_exact_: a node's bit is its slot in node_slots_ (a
  // node with filters keeps its slot; past ExactRoutes::kMaxShards nodes, a node's filters go to
  // remote_routes_). Most subscriptions are exact topics, and walking remote_routes_ for them
  // was a quarter of a publishing shard's time when every message crossed to another node.
  ExactRoutes node_exact_;
  std::vector<std::string> node_slots_;                 // slot -> node id ("" = free)
  absl::flat_hash_map<std::string, int> node_slot_of_;  // node id -> slot
  int NodeSlot(const std::string& node);                // -1: none free
  void ReleaseNodeSlot(const std::string& node);
  // Takes one filter of `node` out of node_exact_ or remote_routes_, wherever it went.
  void UnindexRemoteFilter(const std::string& node, const std::string& filter);
  absl::flat_hash_map<std::string, SharedPicker> pickers_;  // "$share/g/f" -> picker

  // Group commit state (shard_store.cc).
  bool commit_scheduled_ = false;
  // Store mutations since the last commit, and per commit recently (decaying): a busy shard waits
  // up to storage_commit_delay_us before committing, so messages acked meanwhile are never written.
  uint32_t ops_since_commit_ = 0;
  uint32_t last_commit_ops_ = 0;
  bool commit_delayed_ = false;  // the scheduled commit waits for commit_timer_
  boost::asio::steady_timer commit_timer_{io_};
  uint64_t commit_epoch_ = 0;  // commits done; an ack made in epoch e waits for commit e + 1
  // Per origin shard: (client, ticket) to confirm after the next commit.
  std::vector<std::vector<std::pair<uint64_t, uint64_t>>> confirms_;
  std::vector<uint64_t> ack_waiters_;
  // Messages passed on by a session's old owner before the session itself arrived here.
  struct MovedIn {
    explicit MovedIn(boost::asio::io_context& io) : retry(io) {}
    std::deque<std::pair<Delivery, std::function<void()>>> waiting;
    boost::asio::steady_timer retry;
    int64_t since_ms = 0;
  };
  absl::flat_hash_map<std::string, std::unique_ptr<MovedIn>> moved_in_;

  // Scratch space reused by Route to avoid allocating per message.
  std::vector<std::pair<Session*, SubOptions>> matches_;
  // While a HandoffBatch is open: Route collects its cross-shard hand-offs here (by shard index)
  // instead of posting each one.
  using Handoff = std::pair<MessagePtr, RouteScope>;
  std::vector<std::vector<Handoff>> handoff_;
  bool batching_ = false;
  // Posts what was collected for `shard` as one task (nothing when empty).
  void PostHandoffs(int shard);

  // A publish this shard routed, for CatchUpRoute: `shards` has bit s set when it went to
  // shard s (whose subscribers then matched it themselves).
  void NoteRouted(const MessagePtr& msg, uint64_t shards);
  struct RecentPublish {
    MessagePtr msg;
    int64_t received_ns = 0;  // receive_time.h
    uint64_t shards = 0;
    size_t bytes = 0;  // msg's payload size: pruning never touches the (cold) message itself
  };
  static constexpr size_t kRecentMax = 1024;
  BoundedRing<RecentPublish> recent_{kRecentMax};
  size_t recent_bytes_ = 0;  // payload bytes held by recent_
  // Empties recent_ of what aged out while no publish came (it holds memory-accounted messages).
  void PruneRecent(int64_t now_ns);
  void ArmRecentPrune();
  boost::asio::steady_timer recent_timer_{io_};
  bool recent_timer_armed_ = false;

  bool WasSentRetained(const Session* session, const Message* msg);
  struct RetainedSent {
    const Session* session;
    MessagePtr msg;  // held: a freed message's address could be reused
    int64_t at_ms;
  };
  std::deque<RetainedSent> retained_sent_;
};

}  // namespace meshmq::broker
