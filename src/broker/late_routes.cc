// Late routes: a subscription that reached the host before a publish, announced by its shard
// after the publishing shard had already routed that publish.
//
// A single-threaded broker reads its sockets in the order their bytes arrived, so a SUBSCRIBE
// sent on one connection and then a PUBLISH on another always meet in that order. Here the two
// connections may sit on two shard threads, and the subscriber's thread may not have run yet
// when the publisher's shard routes (the scheduler often queues a woken thread behind the very
// process that woke it): the route inbox (route_inbox.h) then still lacks the new route. Waiting
// for the other shard would cost every publish; instead the publishing shard keeps what it
// routed lately with the kernel's receive stamp (receive_time.h), and when the route arrives it
// sends the subscriber's shard what it received after the SUBSCRIBE and did not send there.
//
// Bounded: at most kRecentMax messages, kRecentBytes of payload and kRecentNs of age per shard
// (a timer empties it when publishing stops: its messages count against the memory high-water
// mark), so a route that arrives later than that (a shard stalled that long) misses what fell
// out.
// Covers ordinary subscriptions whose filter was new on the subscriber's shard (that is when a
// route is announced); shared groups pick one member at routing time and are not replayed.
#include <boost/asio/post.hpp>

#include "broker/broker.h"
#include "broker/receive_time.h"
#include "broker/shard.h"
#include "codec/topic_rules.h"

namespace meshmq::broker {

namespace {
constexpr size_t kRecentBytes = size_t{1} << 20;
// Far longer than a route takes to reach another shard on a live node (micro- to milliseconds).
constexpr int64_t kRecentNs = 100'000'000;
constexpr auto kPruneEvery = std::chrono::milliseconds(150);
}  // namespace

void Shard::NoteRouted(const MessagePtr& msg, uint64_t shards) {
  const int64_t received = ReceiveTime::Current();
  const size_t bytes = msg->payload.size();
  while (!recent_.empty() &&
         (recent_.full() || recent_bytes_ + bytes > kRecentBytes ||
          received - recent_.front().received_ns > kRecentNs)) {
    recent_bytes_ -= recent_.front().bytes;
    recent_.pop_front();
  }
  if (bytes > kRecentBytes) return;
  recent_.push_back({msg, received, shards, bytes});
  recent_bytes_ += bytes;
  if (!recent_timer_armed_) ArmRecentPrune();
}

void Shard::ArmRecentPrune() {
  if (recent_timer_armed_ || broker_.stopping()) return;
  recent_timer_armed_ = true;
  recent_timer_.expires_after(kPruneEvery);
  recent_timer_.async_wait([this](const boost::system::error_code& ec) {
    recent_timer_armed_ = false;
    if (!ec) PruneRecent(ReceiveTime::Now());
  });
}

void Shard::PruneRecent(int64_t now_ns) {
  while (!recent_.empty() && now_ns - recent_.front().received_ns > kRecentNs) {
    recent_bytes_ -= recent_.front().bytes;
    recent_.pop_front();
  }
  if (!recent_.empty()) ArmRecentPrune();
}

void Shard::CatchUpRoute(int shard, const std::string& filter, int64_t subscribed_ns) {
  if (recent_.empty() || shard < 0 || shard >= 64 || shard == index_) return;
  std::string_view group, inner;
  if (codec::ParseSharedFilter(filter, group, inner)) return;  // shared: not replayed
  const uint64_t bit = uint64_t{1} << shard;
  std::vector<MessagePtr> late;
  for (size_t i = 0; i < recent_.size(); ++i) {  // oldest first: the order they were published
    const RecentPublish& r = recent_[i];
    if (r.received_ns <= subscribed_ns || (r.shards & bit) != 0) continue;
    if (codec::TopicMatches(filter, r.msg->topic)) late.push_back(r.msg);
  }
  if (late.empty()) return;
  PostHandoffs(shard);  // messages routed there earlier in this turn (HandoffBatch) go first
  Shard& other = broker_.shard(shard);
  boost::asio::post(other.io(), [&other, late = std::move(late), filter] {
    for (const MessagePtr& msg : late) other.DeliverLate(msg, filter);
  });
}

void Shard::DeliverLate(const MessagePtr& msg, const std::string& filter) {
  LocalSubscribers* entry = local_.Find(filter);
  if (entry == nullptr) return;  // unsubscribed meanwhile
  matches_.clear();
  CollectPlain(*msg, *entry);  // No Local and the delivery ACL, as on the publish path
  std::vector<std::pair<Session*, SubOptions>> targets;
  targets.swap(matches_);
  for (const auto& [session, options] : targets) {
    // Sent already: as a retained message on SUBSCRIBE, or late for another new filter.
    if (!retained_sent_.empty() && WasSentRetained(session, msg.get())) continue;
    Delivery d;
    d.msg = msg;
    d.qos = std::min(options.qos, msg->qos);
    d.retain = options.retain_as_published && msg->retain;
    if (options.subscription_id != 0) d.subscription_ids.push_back(options.subscription_id);
    NoteRetainedSent(*session, msg);
    Deliver(*session, std::move(d));
  }
}

}  // namespace meshmq::broker
