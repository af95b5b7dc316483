// ClusterNode's public API, the timer (heartbeats, failure detection, claim timeouts), the
// notifier thread, readiness and membership queries.
#include "cluster/cluster_node.h"

#include <chrono>
#include <utility>

#include "cluster/cluster_impl.h"
#include "cluster/message_codec.h"
#include "spdlog/spdlog.h"

namespace meshmq::cluster {

void ClusterNode::Impl::BroadcastLocked(const v1::Frame& frame) {
  for (auto& [id, p] : peers_) {
    if (p->out_link && p->state != Peer::State::kLeft) p->out_link->Send(frame);
  }
}

void ClusterNode::Impl::AddLocalRoute(const std::string& filter, bool add) {
  absl::MutexLock lock(&mu_);
  if (add ? !own_routes_.Add(filter) : !own_routes_.Remove(filter)) return;
  v1::Frame frame;
  v1::RouteDelta* delta = frame.mutable_route_delta();
  delta->set_seq(own_routes_.NextSeq());
  (add ? delta->add_added() : delta->add_removed())->assign(filter);
  delta->set_sent_at_ms(WallMs());
  ++stats_.route_deltas_sent;
  BroadcastLocked(frame);
}

// The publish path: no cluster mutex, one slot mutex of this thread's own (forward_lane.h).
bool ClusterNode::Impl::EnqueueForward(const std::string& node_id, ForwardBuffer::Entry e) {
  ForwardLane* lane = lanes_.Find(node_id);
  if (lane == nullptr) {
    unknown_peer_forwards_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  switch (lane->Push(std::move(e))) {
    case ForwardLane::PushResult::kQueuedWake:
      lane->Wake();
      return true;
    case ForwardLane::PushResult::kQueued: return true;
    case ForwardLane::PushResult::kClosed:
    case ForwardLane::PushResult::kFull: return false;
  }
  return false;
}

void ClusterNode::Impl::SyncLaneLocked(Peer& peer) {
  peer.lane->SetOpen(peer.state == Peer::State::kAlive && !stopping_);
}

std::vector<int64_t> ClusterNode::Impl::AckForwardsLocked(
    Peer& peer, uint64_t acked, std::vector<broker::MessagePtr>* released) {
  size_t before = peer.out.bytes();
  std::vector<int64_t> queued_at = peer.out.Ack(acked, released);
  peer.lane->Release(before - peer.out.bytes());
  return queued_at;
}

void ClusterNode::Impl::RewindForwardsLocked(Peer& peer) {
  size_t before = peer.out.bytes();
  peer.out.Rewind();
  peer.lane->Release(before - peer.out.bytes());
}

void LocalNode::DeliverForwardedBatch(broker::ForwardedBatch batch, std::function<void()> done) {
  auto remaining = std::make_shared<std::atomic<size_t>>(batch.items.size());
  auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
  for (broker::RemoteDelivery& d : batch.items) {
    if (d.msg == nullptr) d.msg = batch.unbuilt->Build(d.unbuilt);
    DeliverForwarded(std::move(d.msg), d.to_subscribers, std::move(d.shared_filters),
                     [remaining, shared_done] {
                       if (remaining->fetch_sub(1) == 1 && *shared_done) (*shared_done)();
                     });
  }
}

void ClusterNode::Impl::Forward(const std::string& node_id, broker::MessagePtr msg,
                                bool to_subscribers, std::vector<std::string> shared_filters,
                                std::function<void(bool)> on_queued) {
  ForwardBuffer::Entry e;
  e.bytes = msg->topic.size() + msg->payload.size() + 64;
  for (const std::string& s : shared_filters) e.bytes += s.size();
  e.msg = std::move(msg);
  e.to_subscribers = to_subscribers;
  if (!shared_filters.empty()) {
    auto extra = std::make_shared<ForwardBuffer::Extra>();
    extra->shared_filters = std::move(shared_filters);
    e.extra = std::move(extra);
  }
  bool ok = EnqueueForward(node_id, std::move(e));
  if (on_queued) on_queued(ok);
}

void ClusterNode::Impl::ForwardToSession(const std::string& node_id, broker::MessagePtr msg,
                                         broker::SessionTarget target,
                                         std::function<void(bool)> on_queued) {
  ForwardBuffer::Entry e;
  e.bytes = msg->topic.size() + msg->payload.size() + target.client_id.size() + 64;
  e.msg = std::move(msg);
  auto extra = std::make_shared<ForwardBuffer::Extra>();
  extra->target = std::move(target);
  e.extra = std::move(extra);
  bool ok = EnqueueForward(node_id, std::move(e));
  if (on_queued) on_queued(ok);
}

void ClusterNode::Impl::PublishRetained(broker::MessagePtr msg) {
  absl::MutexLock lock(&mu_);
  retained_.Offer(*msg);
  v1::Frame frame;
  EncodeMessage(*msg, frame.mutable_retained()->add_messages());
  BroadcastLocked(frame);
}

void ClusterNode::Impl::ClientConnected(const std::string& client_id, int64_t at_ms) {
  absl::MutexLock lock(&mu_);
  clients_.SetLocal(client_id, at_ms);
  v1::Frame frame;
  v1::ClientEntry* e = frame.mutable_clients()->add_connected();
  e->set_client_id(client_id);
  e->set_connected_at_ms(at_ms);
  BroadcastLocked(frame);
}

void ClusterNode::Impl::ClientDisconnected(const std::string& client_id) {
  absl::MutexLock lock(&mu_);
  if (!clients_.RemoveLocal(client_id)) return;
  v1::Frame frame;
  frame.mutable_clients()->add_disconnected(client_id);
  BroadcastLocked(frame);
}

void ClusterNode::Impl::ClaimClientId(const std::string& client_id,
                                      std::function<void(std::optional<std::string>)> done) {
  {
    absl::MutexLock lock(&mu_);
    std::optional<ClientRegistry::Version> owner = clients_.Owner(client_id, options_.node_id);
    if (!stopping_ && !(owner && owner->node_id == options_.node_id)) {
      std::vector<Peer*> ask;
      Peer* known = owner ? FindPeerLocked(owner->node_id) : nullptr;
      if (known != nullptr && known->state == Peer::State::kAlive && known->out_link) {
        ask.push_back(known);  // the registry knows the holder: ask only it
      } else {
        for (auto& [id, p] : peers_) {
          if (p->state == Peer::State::kAlive && p->out_link) ask.push_back(p.get());
        }
      }
      ++stats_.takeovers_requested;
      if (!ask.empty()) {
        uint64_t id = next_claim_id_++;
        claims_[id] = {std::move(done), static_cast<int>(ask.size()),
                       SteadyMs() + options_.takeover_timeout_ms};
        v1::Frame frame;
        frame.mutable_takeover_request()->set_request_id(id);
        frame.mutable_takeover_request()->set_client_id(client_id);
        for (Peer* p : ask) p->out_link->Send(frame);
        return;
      }
    }
  }
  done(std::nullopt);
}

void ClusterNode::Impl::Notify(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(notify_mu_);
  notify_queue_.push_back(std::move(fn));
  notify_cv_.notify_one();
}

void ClusterNode::Impl::RunNotifier() {
  std::unique_lock<std::mutex> lock(notify_mu_);
  for (;;) {
    notify_cv_.wait(lock, [this] { return notify_stop_ || !notify_queue_.empty(); });
    if (notify_queue_.empty()) return;  // stopping, and everything queued has run
    std::function<void()> fn = std::move(notify_queue_.front());
    notify_queue_.pop_front();
    lock.unlock();
    fn();
    lock.lock();
  }
}

// Heartbeats carry the route digest (anti-entropy); a peer silent for failure_timeout_ms is down.
void ClusterNode::Impl::TickLocked(int64_t now, std::vector<std::function<void()>>* expired) {
  v1::Frame hb;
  hb.mutable_heartbeat()->set_route_seq(own_routes_.seq());
  hb.mutable_heartbeat()->set_route_digest(own_routes_.digest());
  hb.mutable_heartbeat()->set_sent_at_ms(WallMs());
  BroadcastLocked(hb);
  for (auto& [id, p] : peers_) {
    if (p->ack_dirty && p->in_link) p->in_link->Wake();  // an ack held back by kAckIntervalMs
    if (p->state == Peer::State::kAlive && now - p->last_heard_ms > options_.failure_timeout_ms) {
      spdlog::warn("cluster: {} silent for {} ms: down", id, now - p->last_heard_ms);
      DropPeerLocked(*p, Peer::State::kDown);
    }
  }
  RecheckBarrierAsksLocked();  // drops the ones past their deadline
  CheckBarriersLocked(now, expired);  // peers gone down, deadlines
  for (auto it = claims_.begin(); it != claims_.end();) {
    if (it->second.deadline_ms > now) {
      ++it;
      continue;
    }
    ++stats_.takeovers_timed_out;
    expired->push_back([done = std::move(it->second.done)] { done(std::nullopt); });
    it = claims_.erase(it);
  }
  UpdateReadyLocked();
}

void ClusterNode::Impl::RunTimer() {
  int period = std::max(10, options_.heartbeat_ms);
  std::unique_lock<std::mutex> lock(timer_mu_);
  while (!timer_cv_.wait_for(lock, std::chrono::milliseconds(period), [this] { return timer_stop_; })) {
    lock.unlock();
    std::vector<std::function<void()>> expired;
    {
      absl::MutexLock state_lock(&mu_);
      TickLocked(SteadyMs(), &expired);
    }
    for (auto& fn : expired) fn();
    lock.lock();
  }
}

void ClusterNode::Impl::UpdateReadyLocked() {
  if (ready_ || !discovery_reported_) return;
  int64_t now = SteadyMs();
  for (auto& [address, d] : dialers_) {
    if (d->learned || d->settled) continue;
    if (d->node_id.empty()) return;  // first attempt still running
    Peer* peer = FindPeerLocked(d->node_id);
    bool synced = peer != nullptr && peer->routes_delivered;
    if (!synced && now - d->connected_at_ms < options_.failure_timeout_ms) return;
    d->settled = true;
  }
  ready_ = true;
  spdlog::info("cluster: node {} ready", options_.node_id);
}

bool ClusterNode::Impl::Ready() const {
  absl::MutexLock lock(&mu_);
  return ready_;
}

std::vector<ClusterNode::MemberInfo> ClusterNode::Impl::Members() const {
  absl::MutexLock lock(&mu_);
  std::vector<MemberInfo> out;
  int64_t now = SteadyMs();
  for (const auto& [id, p] : peers_) {
    MemberInfo m;
    m.node_id = id;
    m.address = p->address;
    m.http_address = p->http_address;
    m.incarnation = p->incarnation;
    switch (p->state) {
      case Peer::State::kAlive:
        m.state = now - p->last_heard_ms > 2 * options_.heartbeat_ms ? "suspect" : "alive";
        break;
      case Peer::State::kDown: m.state = "down"; break;
      case Peer::State::kLeft: m.state = "left"; break;
    }
    m.routes = p->routes.filters().size();
    m.forwarded_to = p->lane->Accepted();
    m.received_from = p->received_from;
    m.queue_depth = p->out.size() + p->lane->Pending();
    out.push_back(std::move(m));
  }
  return out;
}

ClusterStats ClusterNode::Impl::Stats() const {
  absl::MutexLock lock(&mu_);
  ClusterStats out = stats_;
  out.forwards_rejected = unknown_peer_forwards_.load(std::memory_order_relaxed);
  lanes_.ForEach([&](const ForwardLane& lane) { out.forwards_rejected += lane.Refused(); });
  return out;
}

std::string ClusterNode::Impl::bound_address() const {
  absl::MutexLock lock(&mu_);
  return bound_address_;
}

void ClusterNode::Impl::BlockPeer(const std::string& node_id, bool blocked) {
  absl::MutexLock lock(&mu_);
  if (!blocked) {
    blocked_.erase(node_id);
    return;
  }
  blocked_.insert(node_id);
  if (Peer* p = FindPeerLocked(node_id)) CancelPeerStreamsLocked(*p);
}

void ClusterNode::Impl::BreakStreams(const std::string& node_id) {
  absl::MutexLock lock(&mu_);
  if (Peer* p = FindPeerLocked(node_id)) CancelPeerStreamsLocked(*p);
}

void ClusterNode::Impl::DropIncomingForwards(bool drop) {
  absl::MutexLock lock(&mu_);
  drop_incoming_forwards_ = drop;
}

// --- ClusterNode: a thin facade so no gRPC or protobuf header reaches the broker or app.

ClusterNode::ClusterNode(ClusterOptions options, LocalNode& local,
                         std::unique_ptr<discovery::PeerSource> peers)
    : impl_(std::make_shared<Impl>(std::move(options), local, std::move(peers))) {}
ClusterNode::~ClusterNode() { impl_->Stop(false); }
absl::Status ClusterNode::Start() { return impl_->Start(); }
void ClusterNode::Stop(bool graceful_leave) { impl_->Stop(graceful_leave); }
void ClusterNode::AddLocalRoute(const std::string& f) { impl_->AddLocalRoute(f, true); }
void ClusterNode::RemoveLocalRoute(const std::string& f) { impl_->AddLocalRoute(f, false); }
void ClusterNode::Forward(const std::string& node_id, broker::MessagePtr msg, bool to_subscribers,
                          std::vector<std::string> shared_filters,
                          std::function<void(bool)> on_queued) {
  impl_->Forward(node_id, std::move(msg), to_subscribers, std::move(shared_filters),
                 std::move(on_queued));
}
void ClusterNode::ForwardToSession(const std::string& node_id, broker::MessagePtr msg,
                                   broker::SessionTarget target,
                                   std::function<void(bool)> on_queued) {
  impl_->ForwardToSession(node_id, std::move(msg), std::move(target), std::move(on_queued));
}
void ClusterNode::PublishRetained(broker::MessagePtr msg) { impl_->PublishRetained(std::move(msg)); }
void ClusterNode::ClientConnected(const std::string& id, int64_t at_ms) {
  impl_->ClientConnected(id, at_ms);
}
void ClusterNode::ClientDisconnected(const std::string& id) { impl_->ClientDisconnected(id); }
void ClusterNode::ClaimClientId(const std::string& id,
                                std::function<void(std::optional<std::string>)> done) {
  impl_->ClaimClientId(id, std::move(done));
}
void ClusterNode::AwaitForwardBarrier(const std::string& node_id, std::function<void()> done) {
  impl_->AwaitForwardBarrier(node_id, std::move(done));
}
std::vector<ClusterNode::MemberInfo> ClusterNode::Members() const { return impl_->Members(); }
bool ClusterNode::Ready() const { return impl_->Ready(); }
ClusterStats ClusterNode::Stats() const { return impl_->Stats(); }
std::string ClusterNode::BoundAddress() const { return impl_->bound_address(); }
void ClusterNode::TestBlockPeer(const std::string& id, bool blocked) { impl_->BlockPeer(id, blocked); }
void ClusterNode::TestBreakStreams(const std::string& id) { impl_->BreakStreams(id); }
void ClusterNode::TestDropIncomingForwards(bool drop) { impl_->DropIncomingForwards(drop); }

}  // namespace meshmq::cluster
