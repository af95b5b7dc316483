// Overload limits of one client (docs/security.md, "Overload protection"): publish rate and byte
// rate (back-pressure by pausing reads, as EMQX does, never a disconnect), topic depth,
// subscription quota, refusals above the memory high-water mark, and the slow-consumer policy.
#include <algorithm>
#include <boost/asio/post.hpp>

#include "broker/broker.h"
#include "broker/client.h"
#include "broker/shard.h"
#include "codec/topic_rules.h"

namespace meshmq::broker {

using codec::ReasonCode;
using Clock = std::chrono::steady_clock;

namespace {

// While a client's own outbound queue is over the cap, its reads are re-checked this often.
constexpr auto kOutboundRecheck = std::chrono::milliseconds(20);
// One pause never exceeds this, so keep alive and closes are looked at again in time.
constexpr auto kMaxPause = std::chrono::seconds(1);

size_t TopicLevels(std::string_view topic) {
  return static_cast<size_t>(std::count(topic.begin(), topic.end(), '/')) + 1;
}

}  // namespace

Clock::duration Client::ReadPause() {
  if (state_ != State::kConnected) return Clock::duration::zero();
  const BrokerOptions& options = shard_.broker().options();
  // A client that does not read what we send must not make us buffer its acks without bound.
  if (channel_.QueuedBytes() > options.max_outbound_bytes) {
    shard_.NoteOverload(OverloadEvent::kReadPausedOutbound, client_id());
    return kOutboundRecheck;
  }
  if (!publish_limits_) return Clock::duration::zero();
  auto now = Clock::now();
  if (auto wait = publish_limits_->messages.Wait(now); wait > Clock::duration::zero()) {
    shard_.NoteOverload(OverloadEvent::kReadPausedPublishRate, client_id());
    return std::min<Clock::duration>(wait, kMaxPause);
  }
  if (auto wait = publish_limits_->bytes.Wait(now); wait > Clock::duration::zero()) {
    shard_.NoteOverload(OverloadEvent::kReadPausedPublishBytes, client_id());
    return std::min<Clock::duration>(wait, kMaxPause);
  }
  return Clock::duration::zero();
}

void Client::ChargePublish(const codec::Publish& publish) {
  if (!publish_limits_) return;  // no clock read
  auto now = Clock::now();
  publish_limits_->messages.Take(now, 1);
  publish_limits_->bytes.Take(now, static_cast<double>(publish.topic.size() + publish.payload.size()));
}

ReasonCode Client::AdmitPublish(const codec::Publish& publish) {
  const BrokerOptions& options = shard_.broker().options();
  if (options.max_topic_levels > 0 && TopicLevels(publish.topic) > options.max_topic_levels) {
    shard_.NoteOverload(OverloadEvent::kPublishRefusedTopicLevels, client_id());
    return ReasonCode::kTopicNameInvalid;
  }
  if (shard_.broker().memory_overloaded()) {
    shard_.NoteOverload(OverloadEvent::kPublishRefusedMemory, client_id());
    return ReasonCode::kQuotaExceeded;
  }
  return ReasonCode::kSuccess;
}

ReasonCode Client::AdmitFilter(const std::string& filter) {
  const BrokerOptions& options = shard_.broker().options();
  std::string_view group, inner = filter;
  codec::ParseSharedFilter(filter, group, inner);
  if (options.max_topic_levels > 0 && TopicLevels(inner) > options.max_topic_levels) {
    shard_.NoteOverload(OverloadEvent::kSubscribeRefusedTopicLevels, client_id());
    return ReasonCode::kTopicFilterInvalid;
  }
  // Replacing an existing subscription never counts against the quota.
  if (options.max_subscriptions > 0 && !session_->subscriptions.contains(filter) &&
      session_->subscriptions.size() >= options.max_subscriptions) {
    shard_.NoteOverload(OverloadEvent::kSubscribeRefusedQuota, client_id());
    return ReasonCode::kQuotaExceeded;
  }
  return ReasonCode::kSuccess;
}

bool Client::OutboundFull() {
  const BrokerOptions& options = shard_.broker().options();
  if (channel_.QueuedBytes() <= options.max_outbound_bytes) return false;
  if (options.slow_consumer_policy == SlowConsumerPolicy::kDisconnect && !slow_abort_pending_) {
    slow_abort_pending_ = true;
    shard_.NoteOverload(OverloadEvent::kSlowConsumerDisconnect, client_id());
    // Posted: we are inside a fan-out loop that must not see this session vanish under it.
    Shard* shard = &shard_;
    boost::asio::post(shard_.io(), [shard, id = id_] {
      if (Client* c = shard->FindClient(id)) c->Abort();
    });
  }
  return true;
}

void Client::Abort() {
  if (state_ == State::kClosed) return;
  DetachSession(/*publish_will=*/true);  // like a lost network connection [MQTT-3.1.2-8]
  state_ = State::kClosed;
  CancelTimer();
  channel_.Abort();
}

}  // namespace meshmq::broker
