// What arriving frames, new and closed streams, and the timer do to the cluster state.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <utility>

#include "cluster/cluster_impl.h"
#include "cluster/message_codec.h"
#include "cluster/packed_batch.h"
#include "spdlog/spdlog.h"

namespace meshmq::cluster {
namespace {

constexpr size_t kRetainedPerFrame = 256;
// A drain of at least this many messages means the lane is busy (ClusterOptions::forward_linger_us).
constexpr size_t kLingerAfter = 32;
// Forward frames stop growing past this many bytes (a large message still travels alone).
constexpr size_t kMaxFrameBytes = size_t{1} << 20;

std::vector<std::string> ToVector(const google::protobuf::RepeatedPtrField<std::string>& f) {
  return {f.begin(), f.end()};
}

}  // namespace

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Peer& ClusterNode::Impl::GetPeerLocked(const std::string& node_id) {
  std::unique_ptr<Peer>& p = peers_[node_id];
  if (!p) {
    p = std::make_unique<Peer>(lanes_.Insert(node_id, options_.peer_buffer_bytes));
    p->node_id = node_id;
    p->last_heard_ms = SteadyMs();
    SyncLaneLocked(*p);
  }
  return *p;
}

Peer* ClusterNode::Impl::FindPeerLocked(const std::string& node_id) {
  auto it = peers_.find(node_id);
  return it == peers_.end() ? nullptr : it->second.get();
}

// A restarted peer: everything tagged with its old incarnation is purged as a whole, at once,
// instead of waiting for the failure timeout (CLUSTER.md, "dangling routes").
void ClusterNode::Impl::ObserveIncarnationLocked(Peer& peer, uint64_t incarnation) {
  if (peer.incarnation == incarnation) return;
  if (peer.incarnation != 0) {
    spdlog::info("cluster: {} restarted (incarnation {:x} -> {:x})", peer.node_id,
                 peer.incarnation, incarnation);
    if (peer.state == Peer::State::kAlive) DropPeerLocked(peer, Peer::State::kAlive);
  }
  peer.incarnation = incarnation;
  peer.routes_synced = false;
  peer.snapshot_requested = false;
}

void ClusterNode::Impl::HeardFromLocked(Peer& peer) {
  peer.last_heard_ms = SteadyMs();
  if (peer.state == Peer::State::kAlive) return;
  spdlog::info("cluster: {} is reachable again", peer.node_id);
  peer.state = Peer::State::kAlive;
  SyncLaneLocked(peer);
  peer.need_full_resync = true;  // routes, clients and retained may have moved on both sides
  peer.routes_synced = false;
  peer.snapshot_requested = false;
}

void ClusterNode::Impl::DropPeerLocked(Peer& peer, Peer::State state) {
  std::vector<std::string> removed(peer.routes.filters().begin(), peer.routes.filters().end());
  peer.routes.Replace({}, 0);
  peer.routes_synced = false;
  peer.snapshot_requested = false;
  clients_.DropNode(peer.node_id);
  peer.state = state;
  SyncLaneLocked(peer);
  std::string id = peer.node_id;
  Notify([this, id, removed = std::move(removed)] {
    if (!removed.empty()) local_.RemoteRoutesChanged(id, {}, removed);
    local_.NodeDown(id);
  });
}

void ClusterNode::Impl::QueueInitialFramesLocked(Link& link,
                                                 const std::vector<broker::MessagePtr>& retained) {
  v1::Frame routes;
  v1::RouteSnapshot* snap = routes.mutable_route_snapshot();
  snap->set_seq(own_routes_.seq());
  for (const std::string& f : own_routes_.filters()) snap->add_filters(f);
  link.Send(std::move(routes));
  v1::Frame clients;
  v1::ClientUpdate* cu = clients.mutable_clients();
  cu->set_full(true);
  for (const auto& [id, at] : clients_.local()) {
    v1::ClientEntry* e = cu->add_connected();
    e->set_client_id(id);
    e->set_connected_at_ms(at);
  }
  link.Send(std::move(clients));
  for (size_t i = 0; i < retained.size(); i += kRetainedPerFrame) {
    v1::Frame frame;
    for (size_t j = i; j < std::min(retained.size(), i + kRetainedPerFrame); ++j) {
      EncodeMessage(*retained[j], frame.mutable_retained()->add_messages());
    }
    link.Send(std::move(frame));
  }
}

bool ClusterNode::Impl::OnOutboundHello(Dialer* dialer, const v1::HelloAck& ack,
                                        std::shared_ptr<Link> link, grpc::ClientContext* ctx,
                                        std::vector<broker::MessagePtr> retained) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || blocked_.count(ack.node_id())) return false;
  Peer& peer = GetPeerLocked(ack.node_id());
  if (peer.out_link && !peer.out_link->broken() && peer.out_dialer != dialer->address) {
    return false;  // another address of the same node already has a live stream: keep it
  }
  ObserveIncarnationLocked(peer, ack.incarnation());
  peer.http_address = ack.http_address();
  dialer->node_id = ack.node_id();
  dialer->connected_at_ms = SteadyMs();
  peer.out_link = link;
  peer.out_ctx = ctx;
  peer.out_dialer = dialer->address;
  ++stats_.streams_established;
  AckForwardsLocked(peer, ack.forward_acked());
  RewindForwardsLocked(peer);
  peer.lane->SetWaker([weak = std::weak_ptr<Link>(link)] {
    if (std::shared_ptr<Link> l = weak.lock()) l->Wake();
  });
  QueueInitialFramesLocked(*link, retained);
  ResendBarrierRequestsLocked(peer);
  link->Wake();
  UpdateReadyLocked();
  return true;
}

void ClusterNode::Impl::OnOutboundClosed(const std::string& node_id, const Link* link) {
  absl::MutexLock lock(&mu_);
  Peer* peer = FindPeerLocked(node_id);
  if (peer == nullptr || peer->out_link.get() != link) return;
  peer->lane->SetWaker(nullptr);
  peer->out_link.reset();
  peer->out_ctx = nullptr;
}

bool ClusterNode::Impl::OnInboundHello(const v1::Hello& hello, std::shared_ptr<Link> link,
                                       grpc::ServerContext* ctx, v1::HelloAck* ack) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || blocked_.count(hello.node_id())) return false;
  Peer& peer = GetPeerLocked(hello.node_id());
  ObserveIncarnationLocked(peer, hello.incarnation());
  if (peer.state == Peer::State::kLeft) {
    peer.state = Peer::State::kAlive;  // it came back after leaving; the snapshots follow
    SyncLaneLocked(peer);
  }
  HeardFromLocked(peer);
  peer.http_address = hello.http_address();
  if (!hello.advertise().empty() && peer.address != hello.advertise()) {
    if (!peer.address.empty()) {
      spdlog::info("cluster: {} moved from {} to {}", peer.node_id, peer.address,
                   hello.advertise());
    }
    peer.address = hello.advertise();
  }
  // Converge from any subset of discovery answers: whoever dials us, we dial back.
  if (!peer.address.empty()) EnsureDialerLocked(peer.address, /*learned=*/true);
  if (peer.in_link) CancelPeerStreamsLocked(peer, false, true);  // a stale older stream
  peer.in_link = link;
  peer.in_ctx = ctx;
  peer.ack_dirty = false;
  peer.ack_woken = false;
  ack->set_node_id(options_.node_id);
  ack->set_incarnation(options_.incarnation);
  ack->set_http_address(options_.http_address);
  ack->set_forward_acked(peer.in.incarnation() == hello.incarnation() ? peer.in.Acked() : 0);
  return true;
}

void ClusterNode::Impl::OnInboundClosed(const std::string& node_id, const Link* link) {
  absl::MutexLock lock(&mu_);
  Peer* peer = FindPeerLocked(node_id);
  if (peer == nullptr || peer->in_link.get() != link) return;
  peer->in_link.reset();
  peer->in_ctx = nullptr;
}

void ClusterNode::Impl::RequestSnapshotLocked(Peer& peer, bool full) {
  if (peer.snapshot_requested || !peer.in_link) return;
  v1::Frame frame;
  v1::SnapshotRequest* req = frame.mutable_snapshot_request();
  req->set_routes(true);
  req->set_clients(full);
  req->set_retained(full);
  peer.in_link->Send(std::move(frame));
  peer.snapshot_requested = true;
  peer.need_full_resync = false;
  ++stats_.snapshot_requests_sent;
}

void ClusterNode::Impl::HandleHeartbeatLocked(Peer& peer, const v1::Heartbeat& hb) {
  bool diverged = !peer.routes_synced || hb.route_seq() != peer.routes.seq() ||
                  hb.route_digest() != peer.routes.digest();
  if (diverged || peer.need_full_resync) RequestSnapshotLocked(peer, peer.need_full_resync);
}

void ClusterNode::Impl::HandleRouteDeltaLocked(Peer& peer, const v1::RouteDelta& delta) {
  ++stats_.route_deltas_received;
  if (!peer.routes_synced || delta.seq() != peer.routes.seq() + 1) {
    RequestSnapshotLocked(peer, false);  // a gap: only a snapshot can repair it
    return;
  }
  std::vector<std::string> added, removed;
  for (const std::string& f : delta.added()) {
    if (peer.routes.Add(f)) added.push_back(f);
  }
  for (const std::string& f : delta.removed()) {
    if (peer.routes.Remove(f)) removed.push_back(f);
  }
  peer.routes.set_seq(delta.seq());
  int64_t lag = std::max<int64_t>(0, WallMs() - delta.sent_at_ms());
  stats_.last_route_lag_ms = lag;
  stats_.max_route_lag_ms = std::max(stats_.max_route_lag_ms, lag);
  if (!added.empty() || !removed.empty()) {
    Notify([this, id = peer.node_id, added = std::move(added), removed = std::move(removed)] {
      local_.RemoteRoutesChanged(id, added, removed);
    });
  }
  RecheckBarrierAsksLocked();  // after the Notify: the answer's shard tasks come after it
}

void ClusterNode::Impl::HandleRouteSnapshotLocked(Peer& peer, v1::RouteSnapshot& snap) {
  ++stats_.route_snapshots_received;
  std::set<std::string> next(snap.filters().begin(), snap.filters().end());
  std::vector<std::string> added, removed;
  std::set_difference(next.begin(), next.end(), peer.routes.filters().begin(),
                      peer.routes.filters().end(), std::back_inserter(added));
  std::set_difference(peer.routes.filters().begin(), peer.routes.filters().end(), next.begin(),
                      next.end(), std::back_inserter(removed));
  peer.routes.Replace(ToVector(snap.filters()), snap.seq());
  peer.routes_synced = true;
  peer.snapshot_requested = false;
  if (!added.empty() || !removed.empty()) {
    Notify([this, id = peer.node_id, added = std::move(added), removed = std::move(removed)] {
      local_.RemoteRoutesChanged(id, added, removed);
    });
  }
  // The notifier runs in order: once this runs, the routes above are in the broker.
  Notify([this, id = peer.node_id] {
    absl::MutexLock lock(&mu_);
    if (Peer* p = FindPeerLocked(id)) p->routes_delivered = true;
    UpdateReadyLocked();
  });
  RecheckBarrierAsksLocked();
}

// Registrations are versioned (connected_at_ms, node id); a peer's newer registration of a client
// live here means the client reconnected there (or both sides accepted it during a partition):
// the older one is evicted so exactly one survives, on every node the same way.
void ClusterNode::Impl::HandleClientsLocked(Peer& peer, const v1::ClientUpdate& update) {
  if (update.full()) clients_.DropNode(peer.node_id);
  std::vector<std::string> evicted;
  for (const v1::ClientEntry& e : update.connected()) {
    if (clients_.AddRemote(peer.node_id, e.client_id(), e.connected_at_ms(), options_.node_id)) {
      evicted.push_back(e.client_id());
    }
  }
  for (const std::string& id : update.disconnected()) clients_.RemoveRemote(peer.node_id, id);
  if (evicted.empty()) return;
  stats_.evictions += evicted.size();
  v1::Frame frame;
  for (const std::string& id : evicted) frame.mutable_clients()->add_disconnected(id);
  BroadcastLocked(frame);
  for (const std::string& id : evicted) {
    spdlog::info("cluster: client {} has a newer registration on {}: evicting it here", id,
                 peer.node_id);
    Notify([this, id] { local_.EvictClient(id); });
  }
}

void ClusterNode::Impl::OnForwardLaneFrame(const std::string& node_id, v1::Frame&& frame) {
  {
    absl::MutexLock lock(&mu_);
    Peer* peer = FindPeerLocked(node_id);
    if (peer == nullptr || stopping_) return;
    HeardFromLocked(*peer);
    switch (frame.kind_case()) {
      case v1::Frame::kHeartbeat: return HandleHeartbeatLocked(*peer, frame.heartbeat());
      case v1::Frame::kRouteDelta: return HandleRouteDeltaLocked(*peer, frame.route_delta());
      case v1::Frame::kRouteSnapshot:
        return HandleRouteSnapshotLocked(*peer, *frame.mutable_route_snapshot());
      case v1::Frame::kClients: return HandleClientsLocked(*peer, frame.clients());
      case v1::Frame::kForwardBarrierRequest:
        return HandleBarrierRequestLocked(*peer, frame.forward_barrier_request());
      case v1::Frame::kLeave:
        spdlog::info("cluster: {} left", node_id);
        return DropPeerLocked(*peer, Peer::State::kLeft);
      default: break;  // handled below, without mu_
    }
  }
  switch (frame.kind_case()) {
    case v1::Frame::kForwardBatch: return HandleForwardBatch(node_id, *frame.mutable_forward_batch());
    case v1::Frame::kRetained: return HandleRetained(*frame.mutable_retained());
    case v1::Frame::kTakeoverRequest: return HandleTakeoverRequest(node_id, frame.takeover_request());
    default: spdlog::debug("cluster: unexpected frame {} from {}", frame.kind_case(), node_id);
  }
}

void ClusterNode::Impl::OnReverseLaneFrame(const std::string& node_id, v1::Frame&& frame) {
  switch (frame.kind_case()) {
    case v1::Frame::kForwardAck: {
      // Declared before the lock, so destroyed after it is released: freeing the acked messages
      // (often the last reference) would otherwise hold up the writer numbering the next drain.
      std::vector<broker::MessagePtr> released;
      absl::MutexLock lock(&mu_);
      Peer* peer = FindPeerLocked(node_id);
      if (peer == nullptr) return;
      int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::steady_clock::now().time_since_epoch()).count();
      for (int64_t queued_at_us :
           AckForwardsLocked(*peer, frame.forward_ack().acked(), &released)) {
        int64_t ms = (now_us - queued_at_us) / 1000;
        int b = 0;
        while (b < 9 && ms > ClusterStats::kForwardLatencyBoundsMs[b]) ++b;
        ++stats_.forward_latency_buckets[b];
      }
      return;
    }
    case v1::Frame::kSnapshotRequest: {
      std::vector<broker::MessagePtr> retained;
      if (frame.snapshot_request().retained()) retained = local_.RetainedSnapshot();
      absl::MutexLock lock(&mu_);
      Peer* peer = FindPeerLocked(node_id);
      if (peer != nullptr && peer->out_link) QueueInitialFramesLocked(*peer->out_link, retained);
      return;
    }
    case v1::Frame::kTakeoverReply: return HandleTakeoverReply(frame.takeover_reply());
    case v1::Frame::kForwardBarrierReply:
      return HandleBarrierReply(node_id, frame.forward_barrier_reply());
    default: spdlog::debug("cluster: unexpected reverse frame {} from {}", frame.kind_case(), node_id);
  }
}

namespace {

// One received batch's local deliveries: when the last part is handed on, the sender is acked for
// all of them at once (one lock, one wake of the ack writer per batch instead of per message).
struct BatchCompletion {
  std::weak_ptr<ClusterNode::Impl> impl;
  std::string node_id;
  uint64_t incarnation = 0;
  std::vector<uint64_t> seqs;
  std::atomic<size_t> parts{0};
};

}  // namespace

// Decodes outside the mutex; then de-duplicates the whole batch under it once, and hands it to the
// broker before any other stream of the same peer may accept later messages (in_order_mu).
void ClusterNode::Impl::HandleForwardBatch(const std::string& node_id, v1::ForwardBatch& batch) {
  auto buffer = std::make_shared<const std::string>(std::move(*batch.mutable_packed()));
  // Plain messages are built later by the shard that routes them (broker::UnbuiltMessages).
  absl::StatusOr<DeferredBatch> decoded = UnpackForwardBatchDeferred(std::move(buffer));
  auto completion = std::make_shared<BatchCompletion>();
  std::vector<PackedForward*> accepted;
  Peer* peer = nullptr;  // never erased once created (peers_ only grows)
  {
    absl::MutexLock lock(&mu_);
    peer = FindPeerLocked(node_id);
  }
  if (peer == nullptr) return;
  std::lock_guard<std::mutex> in_order(peer->in_order_mu);
  {
    absl::MutexLock lock(&mu_);
    if (drop_incoming_forwards_) return;
    if (!decoded.ok()) {
      // Nothing of it is acknowledged: the sender resends it on the next stream.
      ++stats_.forward_batches_corrupt;
      spdlog::error("cluster: corrupt forward batch from {}: {}; closing its stream", node_id,
                    std::string(decoded.status().message()));
      CancelPeerStreamsLocked(*peer, false, true);
      return;
    }
    completion->incarnation = peer->incarnation;
    for (PackedForward& fm : decoded->forwards) {
      ++stats_.forwards_received;
      if (!peer->in.Accept(completion->incarnation, fm.seq)) {
        ++stats_.forwards_duplicate;
        continue;
      }
      ++peer->received_from;
      completion->seqs.push_back(fm.seq);
      accepted.push_back(&fm);
    }
    if (accepted.empty()) {  // all duplicates: still tell the sender it may drop them
      peer->ack_dirty = true;
      if (peer->in_link) peer->in_link->Wake();
      return;
    }
  }
  completion->impl = weak_from_this();
  completion->node_id = node_id;
  broker::ForwardedBatch plain;
  plain.items.reserve(accepted.size());
  plain.unbuilt = decoded->unbuilt;
  plain.placement = peer->placement;
  size_t targeted = 0;
  for (PackedForward* fm : accepted) targeted += fm->target ? 1 : 0;
  completion->parts = targeted + (targeted < accepted.size() ? 1 : 0);
  auto part_done = [completion] {
    if (completion->parts.fetch_sub(1) != 1) return;
    std::shared_ptr<Impl> self = completion->impl.lock();
    if (!self) return;
    std::vector<std::function<void()>> barriers_passed;  // run after the lock is released
    absl::MutexLock lock(&self->mu_);
    Peer* peer = self->FindPeerLocked(completion->node_id);
    if (peer == nullptr) return;
    peer->in.Done(completion->incarnation, completion->seqs);
    if (!self->barriers_.empty()) {
      self->CheckBarriersLocked(SteadyMs(), &barriers_passed);
      if (!barriers_passed.empty()) {
        self->Notify([fns = std::move(barriers_passed)] {
          for (const auto& fn : fns) fn();
        });
      }
    }
    // Acks only free the sender's buffer (no publisher waits on them), so they go out at most
    // every kAckIntervalMs; a completion inside that interval rides along with a later ack, and
    // the timer flushes the last one. At a moderate rate this halves the threads woken per
    // message (no ack writer here, no reader on the sender per message).
    peer->ack_dirty = true;
    if (!peer->ack_woken && SteadyMs() - peer->last_ack_ms >= kAckIntervalMs && peer->in_link) {
      peer->ack_woken = true;
      peer->in_link->Wake();
    }
  };
  for (PackedForward* fm : accepted) {
    if (fm->target) {
      local_.DeliverToSession(std::move(fm->msg), std::move(*fm->target), part_done);
      continue;
    }
    plain.items.push_back(
        {std::move(fm->msg), fm->to_subscribers, std::move(fm->shared_filters), fm->deferred});
  }
  if (!plain.items.empty()) local_.DeliverForwardedBatch(std::move(plain), part_done);
}

void ClusterNode::Impl::HandleRetained(v1::RetainedUpdate& update) {
  std::vector<broker::MessagePtr> apply;
  {
    absl::MutexLock lock(&mu_);
    for (v1::Message& m : *update.mutable_messages()) {
      broker::MessagePtr msg = DecodeMessage(std::move(m));
      if (retained_.Offer(*msg)) apply.push_back(std::move(msg));
    }
    if (apply.empty()) return;
    Notify([this, apply = std::move(apply)] {
      for (const broker::MessagePtr& msg : apply) local_.ApplyRetained(msg);
    });
  }
}

void ClusterNode::Impl::HandleTakeoverRequest(const std::string& node_id,
                                              const v1::TakeoverRequest& req) {
  std::weak_ptr<Link> link;
  {
    absl::MutexLock lock(&mu_);
    Peer* peer = FindPeerLocked(node_id);
    if (peer == nullptr || !peer->in_link) return;
    link = peer->in_link;
  }
  uint64_t id = req.request_id();
  auto reply = [link, id](std::optional<std::string> session) {
    std::shared_ptr<Link> l = link.lock();
    if (!l) return;  // the stream is gone; the claimer times out
    v1::Frame frame;
    frame.mutable_takeover_reply()->set_request_id(id);
    if (session) frame.mutable_takeover_reply()->set_session(std::move(*session));
    l->Send(std::move(frame));
  };
  local_.TakeOverSession(req.client_id(), node_id, std::move(reply));
}

void ClusterNode::Impl::HandleTakeoverReply(const v1::TakeoverReply& reply) {
  std::optional<std::string> session;
  if (reply.has_session()) session = reply.session();
  FinishClaim(reply.request_id(), std::move(session), false);
}

// One answer to claim `id`: bytes end it, a "not here" ends it once every asked peer said so.
void ClusterNode::Impl::FinishClaim(uint64_t id, std::optional<std::string> session,
                                    bool final_answer) {
  std::function<void(std::optional<std::string>)> done;
  {
    absl::MutexLock lock(&mu_);
    auto it = claims_.find(id);
    if (it == claims_.end()) return;
    if (!session && !final_answer && --it->second.remaining > 0) return;
    done = std::move(it->second.done);
    claims_.erase(it);
  }
  done(std::move(session));
}

int64_t ClusterNode::Impl::NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch()).count();
}

void ClusterNode::Impl::NumberDrainedLocked(Peer& peer, std::vector<ForwardBuffer::Entry>* drained,
                                            int64_t now_us) {
  // One clock read per drain, not per message: the latency histogram starts when the writer
  // took the message, which under load is within one write of when a shard queued it.
  for (ForwardBuffer::Entry& e : *drained) {
    e.queued_at_us = now_us;
    peer.out.Push(std::move(e));  // the lane bounded it
  }
}

// The forward stream's writer: numbers what the shards queued since the last call (one mutex
// acquisition per call, not per message), then encodes outside the mutex.
void ClusterNode::Impl::PullForwardLane(const std::string& node_id, FrameArena* arena,
                                        std::vector<const v1::Frame*>* frames) {
  ForwardLane* lane = lanes_.Find(node_id);
  if (lane == nullptr) return;
  const size_t per_batch = std::max<size_t>(1, options_.max_forward_batch);
  using Outgoing = ForwardBuffer::Taken;
  // Reused drain after drain (this thread is the peer's only writer): up to 8 batches of entries
  // make vectors big enough that allocating and freeing them per drain showed in profiles as
  // malloc_consolidate. Emptied on every exit so no message outlives its drain here.
  thread_local std::vector<ForwardBuffer::Entry> fresh;
  thread_local std::vector<Outgoing> out;
  struct ClearOnExit {
    ~ClearOnExit() {
      fresh.clear();
      out.clear();
    }
  } clear_on_exit;
  // Linger only after a busy drain: at a moderate rate (latency_10k: drains of 1-3 messages) a
  // message never waits, under load a frame gathers the ~150 us of publishes behind the last one
  // (cluster_q0_16B: about 4x fewer frames, about 15 % less CPU per message on each node).
  thread_local size_t last_drained = 0;
  if (options_.forward_linger_us > 0 && last_drained >= kLingerAfter) {
    std::this_thread::sleep_for(std::chrono::microseconds(options_.forward_linger_us));
  }
  std::unique_lock<std::mutex> one_writer = lane->LockWriter();  // drain and number together
  lane->Arm();
  lane->Drain(&fresh);
  last_drained = fresh.size();
  const int64_t now_us = NowUs();
  std::shared_ptr<Link> again;
  {
    absl::MutexLock lock(&mu_);
    Peer* peer = FindPeerLocked(node_id);
    if (peer == nullptr) return;
    NumberDrainedLocked(*peer, &fresh, now_us);
    if (peer->out_link == nullptr) return;  // numbered and kept; sent on the next stream
    // At most 8 batches per call, so control frames queued meanwhile are not held back long.
    peer->out.TakeUnsent(8 * per_batch, &out);
    stats_.forwards_sent += out.size();
    stats_.forwards_resent = 0;
    for (const auto& [id, p] : peers_) stats_.forwards_resent += p->out.resent();
    if (peer->out.HasUnsent()) again = peer->out_link;
  }
  one_writer.unlock();
  std::string packed;
  uint64_t batches = 0;
  for (size_t i = 0, end = 0; i < out.size(); i = end) {
    // At most per_batch messages and about kMaxFrameBytes per frame (always one message): a
    // frame is one gRPC message, held whole in memory at both ends.
    size_t estimate = 1;
    for (end = i; end < out.size() && end - i < per_batch; ++end) {
      const broker::Message& m = *out[end].msg;
      size_t bytes = kFixedFieldsBound + m.topic.size() + m.payload.size() +
                     m.origin_client_id.size() + m.origin_node.size();
      if (end > i && estimate + bytes > kMaxFrameBytes) break;
      estimate += bytes;
    }
    packed.reserve(estimate);
    PackedBatchWriter writer(&packed);
    for (size_t j = i; j < end; ++j) {
      const Outgoing& o = out[j];
      const ForwardBuffer::Extra* extra = o.extra.get();
      writer.Add(o.seq, *o.msg, o.to_subscribers, extra ? &extra->shared_filters : nullptr,
                 extra && extra->target ? &*extra->target : nullptr);
    }
    v1::Frame* frame = arena->Make();
    frame->mutable_forward_batch()->set_packed(std::move(packed));
    packed = std::string();
    frames->push_back(frame);
    ++batches;
  }
  if (batches > 0) {
    absl::MutexLock lock(&mu_);
    stats_.forward_batches_sent += batches;
  }
  if (again) again->Wake();
}

void ClusterNode::Impl::PullReverseLane(const std::string& node_id, FrameArena* arena,
                                        std::vector<const v1::Frame*>* frames) {
  absl::MutexLock lock(&mu_);
  Peer* peer = FindPeerLocked(node_id);
  if (peer == nullptr || !peer->ack_dirty) return;
  peer->ack_dirty = false;
  peer->ack_woken = false;
  peer->last_ack_ms = SteadyMs();
  v1::Frame* frame = arena->Make();
  frame->mutable_forward_ack()->set_acked(peer->in.Acked());
  frames->push_back(frame);
}

}  // namespace meshmq::cluster
