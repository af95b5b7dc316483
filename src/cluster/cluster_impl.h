// ClusterNode's implementation, shared by cluster_node.cc (public API, membership queries),
// frame_handler.cc (what arriving frames and timers do to the state) and transport.cc (gRPC server,
// dialers, start/stop: the only file that includes gRPC headers).
//
// Threads: the gRPC server's handler threads (one per incoming stream, reading the peer's forward
// lane), one dialer thread per peer address (reading the reverse lane of our stream), one writer
// thread per stream direction (Link), a timer thread (heartbeats, failure detection, claim
// timeouts) and a notifier thread that calls LocalNode in state-change order. All shared state is
// guarded by mu_; LocalNode is never called with mu_ held. Lock order: mu_ -> Link -> notify_mu_;
// Peer::in_order_mu -> mu_ (stream readers handing batches on); ForwardLane writer lock -> mu_.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "cluster.pb.h"
#include "cluster/cluster_node.h"
#include "cluster/cluster_state.h"
#include "cluster/forward_lane.h"
#include "cluster/link.h"

namespace grpc {
class ClientContext;
class ServerContext;
class Server;
}  // namespace grpc

namespace meshmq::cluster {

inline constexpr uint32_t kProtocolVersion = 2;  // 2: packed forward batches
inline constexpr char kSecretHeader[] = "x-meshmq-secret";
// Forward acks go out at most this often (the heartbeat timer flushes a held-back one).
inline constexpr int64_t kAckIntervalMs = 2;

int64_t SteadyMs();
int64_t WallMs();

// Everything this node knows about one peer node id.
struct Peer {
  // The byte bound is the lane's budget, which covers this buffer too.
  explicit Peer(ForwardLane* l) : lane(l), out(SIZE_MAX) {}
  std::string node_id;
  std::string address;  // its advertise address
  std::string http_address;  // its HTTP admin API, from its hello or hello ack
  uint64_t incarnation = 0;
  enum class State { kAlive, kDown, kLeft } state = State::kAlive;
  int64_t last_heard_ms = 0;  // steady clock
  RouteSet routes;
  bool routes_synced = false;
  // The first snapshot of this peer's routes reached the broker (the notifier ran it): only then
  // may the node call itself ready, or a client could connect and miss a remote subscriber.
  bool routes_delivered = false;
  bool snapshot_requested = false;
  bool need_full_resync = false;  // revived after being declared down: routes, clients, retained
  ForwardLane* lane;               // what shards queued for it, not yet numbered (owned by lanes_)
  ForwardBuffer out;               // numbered, written at least once or about to be; until acked
  ReceiveTracker in;               // what it forwards to us
  // Held by the reader of its stream from de-duplicating a batch until the batch is handed to the
  // broker (never together with mu_ the other way round: lock order in_order_mu -> mu_). A
  // replaced stream's reader may still be handing on a batch when the new stream's reader accepts
  // the messages after it; without this they could reach the shards first.
  std::mutex in_order_mu;
  // Which shard gets its forwarded messages of a topic first; used under in_order_mu.
  std::shared_ptr<broker::ForwardPlacement> placement =
      std::make_shared<broker::ForwardPlacement>();
  bool ack_dirty = false;
  bool ack_woken = false;   // the ack writer was woken for the pending ack
  int64_t last_ack_ms = 0;  // steady clock: when the ack writer last took an ack
  std::shared_ptr<Link> out_link;  // forward lane of our stream to it
  grpc::ClientContext* out_ctx = nullptr;
  std::string out_dialer;          // address of the dialer owning out_link
  std::shared_ptr<Link> in_link;   // reverse lane of its stream to us
  grpc::ServerContext* in_ctx = nullptr;
  uint64_t forwarded_to = 0, received_from = 0;
};

// One address we keep dialing (from discovery, or learned from a peer's hello).
struct Dialer {
  std::string address;
  bool learned = false;
  bool stop = false;
  bool is_self = false;
  bool settled = false;  // for Ready(): self, failed once, or connected and synced
  std::string node_id;   // known once a hello ack arrived
  int64_t connected_at_ms = 0;
  grpc::ClientContext* ctx = nullptr;
  std::thread thread;
};

// One AwaitForwardBarrier, on the node that asked (forward_barrier.cc).
struct PendingBarrier {
  struct Answer {
    bool replied = false;
    uint64_t forward_seq = 0;  // of the answering node's incarnation below
    uint64_t incarnation = 0;
  };
  std::string node_id;     // the session's new owner
  uint64_t route_seq = 0;  // its route-set sequence when asked
  std::function<void()> done;
  int64_t deadline_ms = 0;
  std::map<std::string, Answer> peers;  // every peer alive when it was asked
};

// A barrier request this node answers once its routes of `node_id` reach `route_seq`.
struct BarrierAsk {
  std::string requester;
  uint64_t request_id = 0;
  std::string node_id;
  uint64_t route_seq = 0;
  int64_t deadline_ms = 0;
};

struct PendingClaim {
  std::function<void(std::optional<std::string>)> done;
  int remaining = 0;
  int64_t deadline_ms = 0;
};

class ClusterNode::Impl : public std::enable_shared_from_this<ClusterNode::Impl> {
 public:
  Impl(ClusterOptions options, LocalNode& local, std::unique_ptr<discovery::PeerSource> peers);
  ~Impl();

  // transport.cc
  absl::Status Start();
  void Stop(bool graceful_leave);
  void RunDialer(Dialer* dialer);
  void OnPeersChanged(const discovery::PeerSet& peers);
  void EnsureDialerLocked(const std::string& address, bool learned)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CancelPeerStreamsLocked(Peer& peer, bool out = true, bool in = true) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // cluster_node.cc: the public API.
  void AddLocalRoute(const std::string& filter, bool add);
  void Forward(const std::string& node_id, broker::MessagePtr msg, bool to_subscribers,
               std::vector<std::string> shared_filters, std::function<void(bool)> on_queued);
  void ForwardToSession(const std::string& node_id, broker::MessagePtr msg,
                        broker::SessionTarget target, std::function<void(bool)> on_queued);
  void PublishRetained(broker::MessagePtr msg);
  void ClientConnected(const std::string& client_id, int64_t at_ms);
  void ClientDisconnected(const std::string& client_id);
  void ClaimClientId(const std::string& client_id,
                     std::function<void(std::optional<std::string>)> done);
  std::vector<MemberInfo> Members() const;
  bool Ready() const;
  ClusterStats Stats() const;
  // forward_barrier.cc
  void AwaitForwardBarrier(const std::string& node_id, std::function<void()> done);
  void BlockPeer(const std::string& node_id, bool blocked);
  void BreakStreams(const std::string& node_id);
  void DropIncomingForwards(bool drop);
  std::string bound_address() const;

  // frame_handler.cc
  // A dialer's hello was acknowledged: register `link` as the forward lane to ack.node_id and queue
  // the initial snapshots. Returns false if the stream must be closed (alias of a live stream,
  // blocked peer).
  bool OnOutboundHello(Dialer* dialer, const v1::HelloAck& ack, std::shared_ptr<Link> link,
                       grpc::ClientContext* ctx, std::vector<broker::MessagePtr> retained);
  void OnOutboundClosed(const std::string& node_id, const Link* link);
  // An incoming stream said hello. Returns false to refuse it; fills *ack.
  bool OnInboundHello(const v1::Hello& hello, std::shared_ptr<Link> link,
                      grpc::ServerContext* ctx, v1::HelloAck* ack);
  void OnInboundClosed(const std::string& node_id, const Link* link);
  void OnForwardLaneFrame(const std::string& node_id, v1::Frame&& frame);
  void OnReverseLaneFrame(const std::string& node_id, v1::Frame&& frame);
  // The writers' on-demand frames (link.h), made on the writer's arena.
  void PullForwardLane(const std::string& node_id, FrameArena* arena,
                       std::vector<const v1::Frame*>* frames);
  void PullReverseLane(const std::string& node_id, FrameArena* arena,
                       std::vector<const v1::Frame*>* frames);
  void RunTimer();
  // forward_barrier.cc: the answering side, once every shard routes with the asked routes.
  void AnswerBarrier(const std::string& requester, uint64_t request_id);

  void CountAuthFailure();
  // Publishes the dialer's current call so Stop()/test hooks can cancel it; false when stopping.
  bool AttachDialerContext(Dialer* dialer, grpc::ClientContext* ctx);
  const ClusterOptions& options() const { return options_; }
  LocalNode& local() { return local_; }

 private:
  friend class ClusterNode;
  using Peers = std::map<std::string, std::unique_ptr<Peer>>;

  Peer& GetPeerLocked(const std::string& node_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Peer* FindPeerLocked(const std::string& node_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ObserveIncarnationLocked(Peer& peer, uint64_t incarnation)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HeardFromLocked(Peer& peer) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops the peer's routes and client registrations (NodeDown), leaving it in `state`.
  void DropPeerLocked(Peer& peer, Peer::State state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void QueueInitialFramesLocked(Link& link, const std::vector<broker::MessagePtr>& retained)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void BroadcastLocked(const v1::Frame& frame) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RequestSnapshotLocked(Peer& peer, bool full) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandleHeartbeatLocked(Peer& peer, const v1::Heartbeat& hb)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandleRouteDeltaLocked(Peer& peer, const v1::RouteDelta& delta)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandleRouteSnapshotLocked(Peer& peer, v1::RouteSnapshot& snap)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandleClientsLocked(Peer& peer, const v1::ClientUpdate& update)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandleForwardBatch(const std::string& node_id, v1::ForwardBatch& batch);
  void HandleRetained(v1::RetainedUpdate& update);
  void HandleTakeoverRequest(const std::string& node_id, const v1::TakeoverRequest& req);
  void HandleTakeoverReply(const v1::TakeoverReply& reply);
  void FinishClaim(uint64_t id, std::optional<std::string> session, bool final_answer);
  // forward_barrier.cc
  void HandleBarrierRequestLocked(Peer& from, const v1::ForwardBarrierRequest& req)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandleBarrierReply(const std::string& node_id, const v1::ForwardBarrierReply& reply);
  void StartBarrierAnswerLocked(const std::string& requester, uint64_t request_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Answers the asks waiting for routes this node now has (after a route delta or snapshot).
  void RecheckBarrierAsksLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves the callbacks of barriers now passed (or past their deadline) to *ready.
  void CheckBarriersLocked(int64_t now, std::vector<std::function<void()>>* ready)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A new stream to `peer`: asks it again for the barriers it has not answered (the request or
  // the answer may have been lost with the old stream, or there was no stream when they began).
  void ResendBarrierRequestsLocked(Peer& peer) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Numbers entries drained from the peer's lane (the writer's drain and NumberLane's): into its
  // buffer, stamped with the drain's time for the forward latency histogram. Leaves them moved-from.
  void NumberDrainedLocked(Peer& peer, std::vector<ForwardBuffer::Entry>* drained, int64_t now_us)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static int64_t NowUs();  // steady clock
  // Numbers what the shards queued for node_id so far; returns the last sequence given.
  uint64_t NumberLane(const std::string& node_id);
  void TickLocked(int64_t now, std::vector<std::function<void()>>* expired)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UpdateReadyLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Queues `e` for node_id without mu_; false when the peer is unknown, down or its budget spent.
  bool EnqueueForward(const std::string& node_id, ForwardBuffer::Entry e);
  // Opens the peer's lane while it is alive and this node runs, closes it otherwise.
  void SyncLaneLocked(Peer& peer) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ack/Rewind of the peer's buffer, returning the freed bytes to its lane's budget.
  // With `released`, acked messages are moved there to be freed once mu_ is released.
  std::vector<int64_t> AckForwardsLocked(Peer& peer, uint64_t acked,
                                         std::vector<broker::MessagePtr>* released = nullptr)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RewindForwardsLocked(Peer& peer) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs fn on the notifier thread, after every callback queued before it.
  void Notify(std::function<void()> fn);
  void RunNotifier();

  const ClusterOptions options_;
  LocalNode& local_;
  std::unique_ptr<discovery::PeerSource> peer_source_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<class ClusterService> service_;
  std::string bound_address_;

  mutable absl::Mutex mu_;
  Peers peers_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<Dialer>> dialers_ ABSL_GUARDED_BY(mu_);
  RouteSet own_routes_ ABSL_GUARDED_BY(mu_);
  ClientRegistry clients_ ABSL_GUARDED_BY(mu_);
  RetainedVersions retained_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, PendingClaim> claims_ ABSL_GUARDED_BY(mu_);
  uint64_t next_claim_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<uint64_t, PendingBarrier> barriers_ ABSL_GUARDED_BY(mu_);
  uint64_t next_barrier_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::vector<BarrierAsk> barrier_asks_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> blocked_ ABSL_GUARDED_BY(mu_);
  bool drop_incoming_forwards_ ABSL_GUARDED_BY(mu_) = false;
  bool discovery_reported_ ABSL_GUARDED_BY(mu_) = false;
  bool ready_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  ClusterStats stats_ ABSL_GUARDED_BY(mu_);
  // Found without mu_ by Forward; inserted under mu_ (GetPeerLocked).
  LaneDirectory lanes_;
  std::atomic<uint64_t> unknown_peer_forwards_{0};  // refused: no lane for that node id
  std::vector<std::unique_ptr<Dialer>> retired_dialers_ ABSL_GUARDED_BY(mu_);

  std::thread timer_thread_;
  std::mutex timer_mu_;
  std::condition_variable timer_cv_;
  bool timer_stop_ = false;  // guarded by timer_mu_

  std::thread notifier_thread_;
  std::mutex notify_mu_;
  std::condition_variable notify_cv_;
  std::deque<std::function<void()>> notify_queue_;  // guarded by notify_mu_
  bool notify_stop_ = false;                         // guarded by notify_mu_
};

}  // namespace meshmq::cluster
