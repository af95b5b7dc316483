// Outbound side of a client: the QoS 1/2 window, the session queue, topic aliases, resends, and
// what happens to the session and will when the connection ends.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "broker/broker.h"
#include "broker/client.h"
#include "broker/shard.h"
#include "codec/encoder.h"

namespace meshmq::broker {

using codec::ProtocolVersion;

bool Client::CanSendQos() const {
  if (session_ == nullptr) return false;
  // Our own cap applies to 3.x clients; v5 clients also announce a Receive Maximum
  // [MQTT-3.3.4-9].
  size_t window = shard_.broker().options().max_inflight;
  if (version_ == ProtocolVersion::kV5) window = std::min<size_t>(window, client_receive_maximum_);
  return session_->inflight.size() < window;
}

void Client::SendDelivery(Delivery delivery) {
  if (delivery.msg->expiry_at_ms && *delivery.msg->expiry_at_ms <= NowMs()) {
    shard_.stats().Drop(DropReason::kExpired);  // [MQTT-3.3.2-5]
    shard_.UnstoreMessage(*session_, delivery);
    return;
  }
  // Slow consumer: QoS 0 is dropped rather than buffered without bound; QoS 1/2 is bounded by
  // the inflight window and the session queue (and, with the disconnect policy, stays in the
  // session to be resent).
  bool full = OutboundFull();
  if (delivery.qos == 0) {
    if (full) {
      shard_.stats().Drop(DropReason::kSlowConsumer);
      return;
    }
    SendPublish(delivery, 0, false);
    return;
  }
  uint16_t id = session_->AllocatePacketId();
  shard_.StoreMessage(*session_, id, false, delivery);
  session_->PushInflight(OutboundInflight{id, std::move(delivery), false});
  Add(shard_.stats().inflight, 1);
  SendPublish(session_->inflight.back().delivery, id, false);
}

void Client::SendPublish(const Delivery& delivery, uint16_t packet_id, bool dup) {
  const Message& msg = *delivery.msg;
  uint16_t new_alias = 0;
  // Encoded from the message in place: no copy of its topic or properties per delivery.
  codec::PublishHeader publish;
  publish.dup = dup;
  publish.qos = delivery.qos;
  publish.retain = delivery.retain;
  publish.packet_id = packet_id;
  publish.payload_size = msg.payload.size();  // the bytes themselves are gathered on write
  publish.topic = msg.topic;
  if (version_ == ProtocolVersion::kV5) {
    publish.properties = msg.properties.get();
    publish.subscription_identifiers = &delivery.subscription_ids;
    if (msg.expiry_at_ms) {
      // The remaining lifetime, not the original one [MQTT-3.3.2-6].
      int64_t left_ms = std::max<int64_t>(0, *msg.expiry_at_ms - NowMs());
      publish.message_expiry_interval = static_cast<uint32_t>((left_ms + 999) / 1000);
    }
    if (client_topic_alias_max_ > 0) {
      const uint16_t* known = nullptr;
      if (aliases_) {
        auto it = aliases_->outbound.find(msg.topic);
        if (it != aliases_->outbound.end()) known = &it->second;
      }
      if (known != nullptr) {
        publish.topic = {};  // the alias names it
        publish.topic_alias = *known;
      } else {
        size_t given = aliases_ ? aliases_->outbound.size() : 0;
        if (given < client_topic_alias_max_) {
          // Registered below, only once the packet is known to be sent.
          new_alias = static_cast<uint16_t>(given + 1);
          publish.topic_alias = new_alias;
        }
      }
    }
  }
  std::string& scratch = Scratch();
  scratch.clear();
  codec::EncodePublishHeader(publish, version_, scratch);
  size_t total = scratch.size() + msg.payload.size();
  if (client_max_packet_size_ != 0 && total > client_max_packet_size_) {
    // Never send more than the client accepts [MQTT-3.1.2-24]; the message is dropped for it.
    shard_.stats().Drop(DropReason::kTooLarge);
    shard_.UnstoreMessage(*session_, delivery);
    if (packet_id != 0 && session_->RemoveInflight(packet_id)) Add(shard_.stats().inflight, -1);
    return;
  }
  if (new_alias != 0) Aliases().outbound.emplace(msg.topic, new_alias);
  if (trace_) {
    publish.topic = msg.topic;  // named in the trace even when an alias replaced it
    Trace("->", codec::ToPublish(publish, msg.payload));
  }
  Inc(shard_.stats().messages_sent[delivery.qos]);
  Inc(shard_.stats().bytes_sent, total);
  channel_.SendWithPayload(scratch, msg.payload);
}

void Client::DrainQueue() {
  if (session_ == nullptr || state_ != State::kConnected) return;
  auto& queue = session_->queue;
  while (!queue.empty() && state_ == State::kConnected) {
    if (queue.front().qos > 0 && !CanSendQos()) return;
    Delivery d = std::move(queue.front());
    queue.pop_front();
    SendDelivery(std::move(d));
  }
}

void Client::ResendInflight() {
  if (session_ == nullptr) return;
  // Aliases do not survive a connection [MQTT-3.3.2-7], so every resend names its topic again.
  if (aliases_) aliases_->outbound.clear();
  // SendPublish may drop (and erase) an entry that no longer fits the client's maximum packet
  // size, so walk a copy of the ids rather than the deque itself.
  std::vector<uint16_t> ids;
  ids.reserve(session_->inflight.size());
  for (const auto& entry : session_->inflight) ids.push_back(entry.packet_id);
  for (uint16_t id : ids) {
    OutboundInflight* entry = session_ != nullptr ? session_->FindInflight(id) : nullptr;
    if (entry == nullptr) continue;
    if (entry->pubrec_received) {
      codec::Pubrel pubrel;
      pubrel.packet_id = id;
      Send(pubrel);
    } else {
      Delivery copy = entry->delivery;  // the entry may be erased while sending
      SendPublish(copy, id, /*dup=*/true);
    }
  }
}

void Client::DetachSession(bool publish_will) {
  pending_.clear();
  if (session_ == nullptr) {
    if (state_ == State::kConnecting && !client_id().empty()) {
      // Never finished connecting: nothing to keep.
    }
    will_.reset();
    return;
  }
  if (HookChain& hooks = shard_.broker().hooks(); !hooks.empty()) hooks.Disconnected(HookInfo());
  Session& session = *session_;
  // The session may go away before this client does.
  names().client_id = session.client_id;
  names_->username = session.owner.username;
  session_ = nullptr;
  session.client = nullptr;
  Add(shard_.stats().sessions_offline, 1);
  if (ClusterPort* cluster = shard_.broker().cluster()) cluster->ClientDisconnected(client_id());
  if (will_ && publish_will) {
    uint32_t delay = will_->properties.will_delay_interval.value_or(0);
    if (delay == 0 || session.expiry_interval_s == 0) {
      shard_.PublishWill(*will_, client_id());
    } else {
      // Will Delay Interval [MQTT-3.1.3-9]: sent when the delay or the session ends, whichever
      // comes first; cancelled if the client resumes the session before.
      SessionRare& rare = session.Rare();
      rare.pending_will = std::move(will_);
      uint32_t wait = std::min(delay, session.expiry_interval_s);
      rare.will_timer.expires_after(std::chrono::seconds(wait));
      Shard* shard = &shard_;
      std::string id = client_id();
      rare.will_timer.async_wait([shard, id](const boost::system::error_code& ec) {
        if (ec) return;
        Session* s = shard->FindSession(id);
        if (s == nullptr || s->pending_will() == nullptr) return;
        codec::Will will = std::move(*s->pending_will());
        s->rare()->pending_will.reset();
        shard->PublishWill(will, id);
      });
    }
  }
  will_.reset();
  if (session.expiry_interval_s == 0) {
    shard_.DestroySession(session, /*release_id=*/true);  // [MQTT-3.1.2-6] ends with the connection
  } else {
    shard_.SyncSessionToStore(session);  // kept, with the time it went offline
    shard_.ScheduleExpiry(session);
  }
}

}  // namespace meshmq::broker
