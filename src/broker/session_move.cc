// A persistent session moving to another node without losing what is still on its way to the old
// one (docs/cluster.md, "Session moves").
//
// The old owner (this node, in MoveSession) hands the session state over at once, but keeps the
// session object as a forwarding tombstone: its subscriptions stay in the trie, so this node keeps
// announcing the routes, and every delivery that still reaches it (forwards that peers queued
// before they learned of the move, local publishes) goes to the new owner with ForwardToSession.
// The tombstone ends once this shard sees the new owner's routes for every filter of the session
// and the forward barrier asked for then has passed (every live peer routes with those routes, and
// what it routed before reached this node: cluster/forward_barrier.cc), and no sooner than a grace
// period after the routes showed; at the latest after kMovedMaxMs. Ending it
// withdraws our routes only after the new owner's are known here, and peers learned those at
// about the same time, so publishers never see a moment with neither route.
//
// The new owner (DeliverMovedIn) may get such a message before the takeover reply that creates
// the session (they travel on different streams): it holds them, in order, until the session
// exists, for at most kMovedInWaitMs.
//
// Runs on the shard's thread only.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "broker/broker.h"
#include "broker/cluster_port.h"
#include "broker/shard.h"

namespace meshmq::broker {
namespace {

constexpr int kMovedPollMs = 20;      // how often a tombstone checks the new owner's routes
constexpr int kMovedGraceMs = 300;    // the tombstone's shortest life after the routes showed
constexpr int kMovedMaxMs = 5000;     // a tombstone never lives longer (new owner died, ...)
constexpr int kMovedInRetryMs = 5;
constexpr int kMovedInWaitMs = 3000;  // the claim itself times out after 3 s (takeover timeout)
// The old node's tombstone lives at most kMovedMaxMs, and what it passed on may wait up to
// kMovedInWaitMs here: after both, no second copy can come.
constexpr int kMoveDedupMs = kMovedMaxMs + kMovedInWaitMs;
constexpr size_t kMoveDedupMaxIds = 200000;  // bounds memory under a flood; then no dedup

int64_t SteadyNowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

SessionState Shard::MoveSession(Session& session, const std::string& to_node) {
  SessionState state = session.Export();
  Add(stats_.inflight, -static_cast<int64_t>(session.inflight.size()));
  session.inflight.clear();
  session.queue.clear();
  SessionRare& rare = session.Rare();
  rare.pending_will.reset();  // the new owner has it (in `state`)
  rare.will_timer.cancel();
  rare.moved_to = to_node;
  rare.moved_at_ms = SteadyNowMs();
  rare.moved_covered_at_ms = 0;
  rare.moved_barrier_passed = false;
  CheckMovedSession(session.client_id);
  return state;
}

void Shard::CheckMovedSession(const std::string& client_id) {
  Session* session = FindSession(client_id);
  if (session == nullptr || !session->moved()) return;
  SessionRare& rare = *session->rare();
  int64_t now = SteadyNowMs();
  bool covered = true;
  auto it = remote_filters_.find(rare.moved_to);
  for (const auto& [filter, sub] : session->subscriptions) {
    if (it == remote_filters_.end() ||
        std::find(it->second.begin(), it->second.end(), filter) == it->second.end()) {
      covered = false;
      break;
    }
  }
  if (!covered && rare.moved_covered_at_ms != 0) {
    // The new owner's routes went away again here (its own tombstone of an earlier move of this
    // session ended before the new subscription was announced): peers may have dropped them too
    // and route to us alone again, so what the barrier confirmed no longer holds.
    rare.moved_covered_at_ms = 0;
    rare.moved_barrier_passed = false;
    ++rare.moved_barrier_gen;  // an answer still on its way is for the old routes
  }
  if (covered && rare.moved_covered_at_ms == 0) {
    rare.moved_covered_at_ms = now;
    AwaitMoveBarrier(*session);
  }
  bool done = (covered && rare.moved_barrier_passed &&
               now - rare.moved_covered_at_ms >= kMovedGraceMs) ||
              now - rare.moved_at_ms >= kMovedMaxMs;
  if (done) {
    spdlog::debug("session {}: forwarding tombstone to {} ends after {} ms{}", client_id,
                  rare.moved_to, now - rare.moved_at_ms,
                  covered && rare.moved_barrier_passed ? "" : " (timeout)");
    DestroySession(*session, /*release_id=*/false);
    return;
  }
  rare.expiry_timer.expires_after(std::chrono::milliseconds(kMovedPollMs));
  rare.expiry_timer.async_wait([this, client_id](const boost::system::error_code& ec) {
    if (!ec) CheckMovedSession(client_id);
  });
}

// Asked once the new owner's routes covered the session's here. The cluster's barrier covers what
// peers routed with the old routes; the shard round after it covers this node's own other shards,
// whose hand-offs to this tombstone (routed before they applied the new routes) are then queued
// here ahead of the confirmation.
void Shard::AwaitMoveBarrier(Session& session) {
  SessionRare& rare = *session.rare();
  ClusterPort* cluster = broker_.cluster();
  if (cluster == nullptr) {
    rare.moved_barrier_passed = true;
    return;
  }
  const uint32_t gen = ++rare.moved_barrier_gen;
  cluster->AwaitForwardBarrier(rare.moved_to, [this, client_id = session.client_id, gen] {
    broker_.SyncShards([this, client_id, gen] {
      boost::asio::post(io_, [this, client_id, gen] {
        Session* s = FindSession(client_id);
        if (s != nullptr && s->moved() && s->rare()->moved_barrier_gen == gen) {
          s->rare()->moved_barrier_passed = true;
        }
      });
    });
  });
}

void StartMoveDedup(Session& session) {
  SessionRare& rare = session.Rare();
  rare.move_dedup = std::make_unique<SessionRare::MoveDedup>();
  rare.move_dedup->until_ms = SteadyNowMs() + kMoveDedupMs;
  auto seed = [&](const Delivery& d) {
    if (d.msg && d.msg->origin_seq != 0) {
      rare.move_dedup->direct.emplace(d.msg->origin_node, d.msg->timestamp_ms,
                                      d.msg->origin_seq);
    }
  };
  for (const Delivery& d : session.queue) seed(d);
  for (const OutboundInflight& f : session.inflight) seed(f.delivery);
}

bool Shard::AdmitAfterMove(Session& session, Delivery& delivery, bool passed_on) {
  SessionRare* rare = session.rare();
  if (session.moved()) {  // a forwarding tombstone: pass it on
    if (ClusterPort* cluster = broker_.cluster()) {
      SessionTarget target{session.client_id, delivery.qos, delivery.retain,
                           std::move(delivery.subscription_ids)};
      cluster->ForwardToSession(rare->moved_to, std::move(delivery.msg), std::move(target),
                                [](bool) {});
    }
    return false;
  }
  if (rare && rare->move_dedup && SteadyNowMs() > rare->move_dedup->until_ms) {
    rare->move_dedup.reset();
  }
  if (!rare || !rare->move_dedup) {
    // Passed on, but this session was not moved here recently: it is a new one (clean start
    // discarded the moved state), whose subscriptions did not ask for this message.
    if (passed_on) stats_.Drop(DropReason::kNoSubscribers);
    return !passed_on;
  }
  SessionRare::MoveDedup& dedup = *rare->move_dedup;
  if (!dedup.full && dedup.direct.size() + dedup.passed_on.size() > kMoveDedupMaxIds) {
    dedup.full = true;
    dedup.direct.clear();
    dedup.passed_on.clear();
  }
  const Message& m = *delivery.msg;
  if (dedup.full || m.origin_seq == 0) return true;
  auto id = std::make_tuple(m.origin_node, m.timestamp_ms, m.origin_seq);
  // A passed-on copy can come from more than one tombstone (a session moving back and forth
  // leaves one on each node it left, and they pass messages on to each other): it is a second
  // copy when the id came before either way. A direct copy is one when it was passed on before;
  // two direct ones are two deliveries (an ordinary and a shared subscription of the session).
  if (passed_on) {
    if (dedup.direct.contains(id)) return false;
    return dedup.passed_on.insert(std::move(id)).second;
  }
  if (dedup.passed_on.contains(id)) return false;
  dedup.direct.insert(std::move(id));
  return true;
}

void Shard::DeliverMovedIn(const std::string& client_id, Delivery delivery,
                           std::function<void()> done) {
  std::unique_ptr<MovedIn>& waiting = moved_in_[client_id];
  if (!waiting) {
    waiting = std::make_unique<MovedIn>(io_);
    waiting->since_ms = SteadyNowMs();
  }
  waiting->waiting.emplace_back(std::move(delivery), std::move(done));
  if (waiting->waiting.size() == 1) FlushMovedIn(client_id);
}

void Shard::FlushMovedIn(const std::string& client_id) {
  auto it = moved_in_.find(client_id);
  if (it == moved_in_.end()) return;
  MovedIn& in = *it->second;
  Session* session = FindSession(client_id);
  bool give_up = session == nullptr && SteadyNowMs() - in.since_ms >= kMovedInWaitMs;
  if (session == nullptr && !give_up) {
    in.retry.expires_after(std::chrono::milliseconds(kMovedInRetryMs));
    in.retry.async_wait([this, client_id](const boost::system::error_code& ec) {
      if (!ec) FlushMovedIn(client_id);
    });
    return;
  }
  auto waiting = std::move(in.waiting);
  moved_in_.erase(it);
  if (give_up) {
    spdlog::warn("session {}: {} messages passed on by its previous node, but the session never "
                 "arrived here; dropped", client_id, waiting.size());
  }
  for (auto& [delivery, done] : waiting) {
    if (give_up) {
      stats_.Drop(DropReason::kNoSubscribers);
    } else if (Session* s = FindSession(client_id)) {
      Deliver(*s, std::move(delivery), /*passed_on=*/true);  // moved on again: passed on again
    }
    if (done) done();
  }
}

void Broker::DeliverToSession(MessagePtr msg, SessionTarget target, std::function<void()> done) {
  int owner = registry_.ShardOf(target.client_id);
  if (owner < 0) {
    // Neither live nor being claimed here, but it may have moved on from here (its registry
    // entry goes at the move): a tombstone of ours passes the message on. That is the way back
    // of a session that moved here and away again quickly, while a peer still routed to the
    // node it first came from (whose tombstone sent the message here).
    PassOnToTombstone(std::move(msg), std::move(target), std::move(done));
    return;
  }
  Shard* s = shards_[owner].get();
  boost::asio::post(s->io(), [s, msg = std::move(msg), target = std::move(target),
                              done = std::move(done)]() mutable {
    Delivery d{std::move(msg), target.qos, target.retain, std::move(target.subscription_ids)};
    s->DeliverMovedIn(target.client_id, std::move(d), std::move(done));
  });
}

void Broker::PassOnToTombstone(MessagePtr msg, SessionTarget target, std::function<void()> done) {
  // At most one shard holds a tombstone for the id: it takes the message; when none does, the
  // last shard to look drops it.
  struct Search {
    MessagePtr msg;
    SessionTarget target;
    std::function<void()> done;
    std::atomic<bool> taken{false};
    std::atomic<size_t> left{0};
  };
  auto search = std::make_shared<Search>();
  search->msg = std::move(msg);
  search->target = std::move(target);
  search->done = std::move(done);
  search->left = shards_.size();
  for (auto& shard : shards_) {
    Shard* s = shard.get();
    boost::asio::post(s->io(), [s, search] {
      Session* session = s->FindSession(search->target.client_id);
      if (session != nullptr && session->moved() && !search->taken.exchange(true)) {
        Delivery d{std::move(search->msg), search->target.qos, search->target.retain,
                   std::move(search->target.subscription_ids)};
        s->Deliver(*session, std::move(d), /*passed_on=*/true);  // passes it on
        if (search->done) search->done();
      }
      if (search->left.fetch_sub(1) == 1 && !search->taken.load()) {
        s->stats().Drop(DropReason::kNoSubscribers);  // nowhere to deliver
        if (search->done) search->done();
      }
    });
  }
}

}  // namespace meshmq::broker
