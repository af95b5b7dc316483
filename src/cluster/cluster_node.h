// The cluster layer: one node's view of its peers over gRPC (see docs/cluster.md).
//
// ClusterNode is the only public entry point. It owns the gRPC server, one dialer per peer
// address, the membership table, the route sets of all peers, the per-peer forward buffers, the
// client-id registry and the retained versions. No gRPC header leaks out of this file (pimpl), so
// src/app can wire it to the broker without paying for gRPC compile times.
//
// Threads: every public method is thread-safe and never blocks on the network (they enqueue).
// LocalNode callbacks come from cluster threads; route/membership/retained/evict callbacks come
// from one notifier thread, in the order the cluster state changed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "broker/cluster_port.h"
#include "broker/message.h"
#include "discovery/peer_source.h"

namespace meshmq::cluster {

struct ClusterOptions {
  std::string node_id;
  uint64_t incarnation = 0;  // a new random 64-bit value on every start
  std::string cluster_name;
  std::string secret;
  std::string listen;     // "host:port" for the gRPC server; port 0 picks a free port
  std::string advertise;  // "host:port" peers should dial; empty = the bound listen address
  // "host:port" of this node's HTTP admin API, passed to peers in the hello so an admin API can
  // reach theirs (cluster-wide views of the dashboard); empty when HTTP is off.
  std::string http_address;
  int heartbeat_ms = 500;
  int failure_timeout_ms = 5000;
  size_t max_forward_batch = 1024;
  // Under load (the writer's last drain held at least kLingerAfter messages) the forward writer
  // waits this long before draining again, so one frame carries more messages: fewer frames, and
  // fewer thread wake-ups per message on both nodes. A quiet lane never waits. 0 = off.
  int forward_linger_us = 150;
  size_t peer_buffer_bytes = 64 << 20;  // bounded per-peer forward buffer
  // Extensions to the agreed contract:
  int takeover_timeout_ms = 3000;  // ClaimClientId gives up (nullopt) after this
  int max_backoff_ms = 1500;       // reconnect backoff cap for unanswered addresses
  // Mutual TLS (PEM contents, not paths): all three set = the server requires and verifies a
  // client certificate signed by tls_ca_pem and the dialers present tls_cert_pem. The shared
  // secret is still checked on every call. Empty = plaintext gRPC.
  std::string tls_cert_pem;
  std::string tls_key_pem;
  std::string tls_ca_pem;
  // Name expected in the peers' certificates (SAN); empty = the dialled host or IP. One name for
  // every node lets pods found by IP share a certificate layout (docs/security.md).
  std::string tls_server_name;
  bool tls() const { return !tls_cert_pem.empty(); }
};

// What the cluster asks of the local broker. Called from cluster threads; implementations only
// post work to broker threads and never block.
class LocalNode {
 public:
  virtual ~LocalNode() = default;
  virtual void RemoteRoutesChanged(const std::string& node_id,
                                   const std::vector<std::string>& added,
                                   const std::vector<std::string>& removed) = 0;
  // All its routes are gone (they were also reported as removed just before).
  virtual void NodeDown(const std::string& node_id) = 0;
  // Deliver to LOCAL subscribers only (never re-forward). to_subscribers: ordinary matching
  // subscriptions; shared_filters ("$share/group/filter"): one local member of each group.
  // done() once safely handed to local sessions (the cluster acks the sender then).
  virtual void DeliverForwarded(broker::MessagePtr msg, bool to_subscribers,
                                std::vector<std::string> shared_filters,
                                std::function<void()> done) = 0;
  // A whole forward batch at once, in the order the sender queued it; done() once every message
  // is handed to local sessions. The default calls DeliverForwarded per message; the broker's
  // adapter overrides it to post one task per shard instead of one per message.
  virtual void DeliverForwardedBatch(broker::ForwardedBatch batch, std::function<void()> done);
  // Deliver to one local session only (it moved here from the sender, which still received
  // messages for it); done() once handed to the session or given up.
  virtual void DeliverToSession(broker::MessagePtr msg, broker::SessionTarget target,
                                std::function<void()> done) = 0;
  // Replicated retained set/delete (empty payload = delete). The cluster only passes on updates
  // newer than any it has seen, but a local retained PUBLISH may race this call, so the store must
  // also apply it only if (timestamp_ms, origin_node) is newer than what it holds.
  virtual void ApplyRetained(broker::MessagePtr msg) = 0;
  // Node `to_node` took client_id: disconnect it here (v5 0x8E) if live and hand back its session
  // state as opaque bytes (nullopt if none here). Messages for the session that still arrive
  // here afterwards are passed on to `to_node` with ForwardToSession.
  virtual void TakeOverSession(const std::string& client_id, const std::string& to_node,
                               std::function<void(std::optional<std::string>)> done) = 0;
  // Runs one task on every broker thread, after the ones already posted (route changes among
  // them), then done() from one of those threads. A forward barrier's answer waits for it
  // (forward_barrier.cc). The default runs done() at once (a LocalNode without threads).
  virtual void SyncShards(std::function<void()> done) { done(); }
  // client_id is live here AND on a node with a newer registration: disconnect it here.
  virtual void EvictClient(const std::string& client_id) = 0;
  // Full retained set, sent to a peer on every new stream.
  virtual std::vector<broker::MessagePtr> RetainedSnapshot() = 0;
};

// Counters for /metrics. All monotonically increasing except where noted.
struct ClusterStats {
  uint64_t route_deltas_sent = 0;
  uint64_t route_deltas_received = 0;
  uint64_t route_snapshots_received = 0;
  uint64_t snapshot_requests_sent = 0;   // gaps, digest mismatches, heals
  int64_t last_route_lag_ms = 0;          // gauge: owner send -> applied here (wall clocks)
  int64_t max_route_lag_ms = 0;
  uint64_t forwards_sent = 0;             // messages written to streams (resends included)
  uint64_t forwards_resent = 0;
  uint64_t forwards_received = 0;
  uint64_t forwards_duplicate = 0;        // dropped by (origin, incarnation, seq) de-duplication
  uint64_t forward_batches_corrupt = 0;   // received batches that did not decode (stream closed)
  uint64_t forwards_rejected = 0;         // on_queued(false): unknown/down peer or budget spent
  uint64_t forward_batches_sent = 0;      // stream frames carrying forwards (batches)
  // Forward round trip (queued here -> acked by the peer), histogram with upper bounds
  // kForwardLatencyBoundsMs; the last bucket is +Inf.
  static constexpr int kForwardLatencyBoundsMs[] = {1, 2, 5, 10, 25, 50, 100, 250, 1000};
  uint64_t forward_latency_buckets[10] = {};
  uint64_t takeovers_requested = 0;
  uint64_t takeovers_timed_out = 0;
  uint64_t evictions = 0;                 // partition-heal client id conflicts lost here
  uint64_t auth_failures = 0;             // refused incoming streams
  uint64_t streams_established = 0;
};

class ClusterNode {
 public:
  ClusterNode(ClusterOptions options, LocalNode& local,
              std::unique_ptr<discovery::PeerSource> peers);
  ~ClusterNode();  // Stop(false) if still running
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

  absl::Status Start();  // binds, starts discovery, dials peers
  void Stop(bool graceful_leave);

  // Called on the first add / last remove of a filter on this node. Cheap (enqueue).
  void AddLocalRoute(const std::string& filter);
  void RemoveLocalRoute(const std::string& filter);

  // Forward to one node. QoS 0: best effort. QoS > 0: at-least-once between nodes. on_queued is
  // called before Forward returns: true when queued in the per-peer buffer, false when the peer is
  // unknown/down or the buffer is full.
  void Forward(const std::string& node_id, broker::MessagePtr msg, bool to_subscribers,
               std::vector<std::string> shared_filters, std::function<void(bool)> on_queued);
  // Forward to one session that moved to `node_id`; same guarantees and on_queued as Forward.
  void ForwardToSession(const std::string& node_id, broker::MessagePtr msg,
                        broker::SessionTarget target, std::function<void(bool)> on_queued);
  // Replicate to all peers; last-writer-wins by (timestamp_ms, origin_node).
  void PublishRetained(broker::MessagePtr msg);

  void ClientConnected(const std::string& client_id, int64_t connected_at_ms);
  void ClientDisconnected(const std::string& client_id);
  // Takes client_id over from the live node holding it (registry, else ask every live peer).
  // done(bytes | nullopt) exactly once, from a cluster thread; nullopt also on timeout, or at
  // once when the registry says this node itself holds it (the broker handles local takeover).
  void ClaimClientId(const std::string& client_id,
                     std::function<void(std::optional<std::string>)> done);

  // A session moved from this node to `node_id`: done() once no live peer can still send this
  // node a message for it that `node_id` does not also get (every peer then routes with the
  // routes of `node_id` this node has now, and what it routed before has been handled here), or
  // after 5 s. From a cluster or broker thread; never called when the node stops first.
  void AwaitForwardBarrier(const std::string& node_id, std::function<void()> done);
  struct MemberInfo {
    std::string node_id;
    std::string address;
    std::string http_address;  // its HTTP admin API as it announced it; empty when unknown
    uint64_t incarnation = 0;
    std::string state;  // alive|suspect|down|left
    size_t routes = 0;
    uint64_t forwarded_to = 0, received_from = 0, queue_depth = 0;
  };
  std::vector<MemberInfo> Members() const;  // peers only, sorted by node id
  // Discovery answered once and every peer that answered has sent its full route set. Latched:
  // stays true afterwards, since a node keeps serving its clients while peers come and go.
  bool Ready() const;
  ClusterStats Stats() const;
  std::string BoundAddress() const;  // "host:port" actually bound (after Start)

  // Test hooks. Block: tear down the streams with that node and refuse new ones (a partition
  // seen from this side). Break: tear down current streams once; they reconnect by themselves.
  // DropIncomingForwards: discard received forward batches unseen (simulated loss on the wire).
  void TestBlockPeer(const std::string& node_id, bool blocked);
  void TestBreakStreams(const std::string& node_id);
  void TestDropIncomingForwards(bool drop);

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;  // shared: callbacks handed to the broker hold weak refs
};

}  // namespace meshmq::cluster
