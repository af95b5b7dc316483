// Forward barriers: how the old owner of a moved session learns that no peer can still send it a
// message for that session which the new owner did not also get (docs/cluster.md, "Session
// moves").
//
// The old owner O keeps a forwarding tombstone after the move. Ending it on a timer alone lost
// messages on a loaded node: a peer P could route a publish with the old routes only (to O), and
// deliver it to O after the timer ran out. So O asks every live peer, with the new owner N and the
// sequence of N's route set that O has applied:
//
//   1. P waits until it has applied N's routes up to that sequence itself (a route delta may still
//      be on its way to P);
//   2. P asks its broker to run one task on every shard after the route changes it already handed
//      over (LocalNode::SyncShards): from then on every publish P routes also goes to N;
//   3. P numbers what its shards queued for O so far and answers with the last sequence given:
//      every forward P routed with the old routes has a sequence at or below it;
//   4. O passes the barrier once it has handled (handed to its shards, so to the tombstone) every
//      forward of P up to that sequence, for every peer that answered. Peers that go down or
//      leave no longer count. The request gives up after kBarrierTimeoutMs; the tombstone has its
//      own upper bound.
//
// Sequences name the order, so the answer may travel on a different stream than the forwards.
#include <spdlog/spdlog.h>

#include <chrono>
#include <utility>

#include "cluster/cluster_impl.h"

namespace meshmq::cluster {
namespace {

constexpr int64_t kBarrierTimeoutMs = 5000;  // as the broker's tombstone bound (kMovedMaxMs)

v1::Frame BarrierRequest(uint64_t id, const PendingBarrier& barrier) {
  v1::Frame frame;
  v1::ForwardBarrierRequest* req = frame.mutable_forward_barrier_request();
  req->set_request_id(id);
  req->set_node_id(barrier.node_id);
  req->set_route_seq(barrier.route_seq);
  return frame;
}

}  // namespace

void ClusterNode::Impl::ResendBarrierRequestsLocked(Peer& peer) {
  if (!peer.out_link) return;
  for (const auto& [id, barrier] : barriers_) {
    auto answer = barrier.peers.find(peer.node_id);
    if (answer != barrier.peers.end() && !answer->second.replied) {
      peer.out_link->Send(BarrierRequest(id, barrier));
    }
  }
}

void ClusterNode::Impl::AwaitForwardBarrier(const std::string& node_id,
                                            std::function<void()> done) {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;  // nobody waits for a stopping node's barrier
    const Peer* owner = FindPeerLocked(node_id);
    const uint64_t route_seq = owner != nullptr ? owner->routes.seq() : 0;
    const uint64_t id = next_barrier_id_++;
    PendingBarrier barrier;
    barrier.node_id = node_id;
    barrier.route_seq = route_seq;
    barrier.done = std::move(done);
    barrier.deadline_ms = SteadyMs() + kBarrierTimeoutMs;
    const v1::Frame frame = BarrierRequest(id, barrier);
    for (auto& [peer_id, peer] : peers_) {
      if (peer->state != Peer::State::kAlive) continue;
      barrier.peers[peer_id];
      // A peer without our stream right now is asked once it is back (OnOutboundHello).
      if (peer->out_link) peer->out_link->Send(frame);
    }
    if (!barrier.peers.empty()) {
      barriers_.emplace(id, std::move(barrier));
      return;
    }
    done = std::move(barrier.done);
  }
  done();  // no live peer: nothing can be on its way
}

void ClusterNode::Impl::HandleBarrierRequestLocked(Peer& from,
                                                   const v1::ForwardBarrierRequest& req) {
  BarrierAsk ask{from.node_id, req.request_id(), req.node_id(), req.route_seq(),
                 SteadyMs() + kBarrierTimeoutMs};
  barrier_asks_.push_back(std::move(ask));
  RecheckBarrierAsksLocked();
}

void ClusterNode::Impl::RecheckBarrierAsksLocked() {
  if (barrier_asks_.empty()) return;
  const int64_t now = SteadyMs();
  for (auto it = barrier_asks_.begin(); it != barrier_asks_.end();) {
    uint64_t have;
    if (it->node_id == options_.node_id) {
      have = own_routes_.seq();
    } else {
      const Peer* owner = FindPeerLocked(it->node_id);
      // A new owner that is gone or unknown here has no routes to wait for.
      have = owner != nullptr && owner->state == Peer::State::kAlive ? owner->routes.seq()
                                                                     : UINT64_MAX;
    }
    if (have >= it->route_seq) {
      StartBarrierAnswerLocked(it->requester, it->request_id);
      it = barrier_asks_.erase(it);
    } else if (now > it->deadline_ms) {
      spdlog::debug("cluster: barrier {} of {}: routes of {} never reached seq {}",
                    it->request_id, it->requester, it->node_id, it->route_seq);
      it = barrier_asks_.erase(it);  // the requester has given up too
    } else {
      ++it;
    }
  }
}

void ClusterNode::Impl::StartBarrierAnswerLocked(const std::string& requester,
                                                 uint64_t request_id) {
  // Through the notifier: it runs after the route changes queued before, so the shard tasks
  // SyncShards posts come after the ones that apply those routes.
  Notify([this, self = weak_from_this(), requester, request_id] {
    local_.SyncShards([self, requester, request_id] {
      if (std::shared_ptr<Impl> impl = self.lock()) impl->AnswerBarrier(requester, request_id);
    });
  });
}

uint64_t ClusterNode::Impl::NumberLane(const std::string& node_id) {
  ForwardLane* lane = lanes_.Find(node_id);
  std::vector<ForwardBuffer::Entry> fresh;
  std::unique_lock<std::mutex> one_writer;
  if (lane != nullptr) {
    one_writer = lane->LockWriter();  // drain and number together, as the writer does
    lane->Drain(&fresh);
  }
  const int64_t now_us = NowUs();
  absl::MutexLock lock(&mu_);
  Peer* peer = FindPeerLocked(node_id);
  if (peer == nullptr) return 0;
  NumberDrainedLocked(*peer, &fresh, now_us);
  if (!fresh.empty() && peer->out_link) peer->out_link->Wake();  // write what was numbered here
  return peer->out.next_seq() - 1;
}

void ClusterNode::Impl::AnswerBarrier(const std::string& requester, uint64_t request_id) {
  const uint64_t seq = NumberLane(requester);
  absl::MutexLock lock(&mu_);
  Peer* peer = FindPeerLocked(requester);
  if (peer == nullptr || !peer->in_link) return;  // its stream is gone: it times out
  v1::Frame frame;
  v1::ForwardBarrierReply* reply = frame.mutable_forward_barrier_reply();
  reply->set_request_id(request_id);
  reply->set_forward_seq(seq);
  reply->set_incarnation(options_.incarnation);
  peer->in_link->Send(std::move(frame));
}

void ClusterNode::Impl::HandleBarrierReply(const std::string& node_id,
                                           const v1::ForwardBarrierReply& reply) {
  std::vector<std::function<void()>> ready;
  {
    absl::MutexLock lock(&mu_);
    auto it = barriers_.find(reply.request_id());
    if (it == barriers_.end()) return;
    auto answer = it->second.peers.find(node_id);
    if (answer == it->second.peers.end()) return;
    answer->second = {true, reply.forward_seq(), reply.incarnation()};
    CheckBarriersLocked(SteadyMs(), &ready);
  }
  for (auto& fn : ready) fn();
}

void ClusterNode::Impl::CheckBarriersLocked(int64_t now,
                                            std::vector<std::function<void()>>* ready) {
  for (auto it = barriers_.begin(); it != barriers_.end();) {
    bool passed = true;
    for (const auto& [peer_id, answer] : it->second.peers) {
      const Peer* peer = FindPeerLocked(peer_id);
      if (peer == nullptr || peer->state != Peer::State::kAlive) continue;  // no longer counts
      if (!answer.replied) {
        passed = false;
        break;
      }
      if (answer.forward_seq == 0) continue;  // it never forwarded anything to us
      // Handled here: every forward of that incarnation up to the answer's sequence.
      if (peer->in.incarnation() != answer.incarnation || peer->in.Acked() < answer.forward_seq) {
        passed = false;
        break;
      }
    }
    if (!passed && now <= it->second.deadline_ms) {
      ++it;
      continue;
    }
    if (!passed) spdlog::debug("cluster: forward barrier {} timed out", it->first);
    ready->push_back(std::move(it->second.done));
    it = barriers_.erase(it);
  }
}

}  // namespace meshmq::cluster
