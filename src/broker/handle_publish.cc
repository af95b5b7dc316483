// PUBLISH from a client: topic alias, QoS 2 de-duplication, retained store, routing, ack.
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "broker/broker.h"
#include "broker/client.h"
#include "broker/message_builder.h"
#include "broker/shard.h"
#include "codec/topic_rules.h"

namespace meshmq::broker {

using codec::ProtocolVersion;
using codec::ReasonCode;

bool Client::ResolveTopicAlias(codec::Publish& publish) {
  if (!publish.properties.topic_alias) {
    if (publish.topic.empty()) {
      CloseWith(ReasonCode::kProtocolError);  // [MQTT-3.3.2-8]... an empty topic needs an alias
      return false;
    }
    return true;
  }
  uint16_t alias = *publish.properties.topic_alias;
  // [MQTT-3.3.2-9], [MQTT-3.3.2-10]: 0 and values above our maximum are invalid.
  if (alias == 0 || alias > shard_.broker().options().max_topic_alias) {
    CloseWith(ReasonCode::kTopicAliasInvalid);
    return false;
  }
  // The table grows on first use: most clients never use aliases, and idle memory matters.
  std::vector<std::string>& inbound = Aliases().inbound;
  if (inbound.size() <= alias) inbound.resize(alias + 1);
  if (publish.topic.empty()) {
    if (inbound[alias].empty()) {
      CloseWith(ReasonCode::kProtocolError);  // alias used before it was set
      return false;
    }
    publish.topic = inbound[alias];
  } else {
    inbound[alias] = publish.topic;
  }
  publish.properties.topic_alias.reset();
  return true;
}

void Client::HandlePublish(codec::Publish& publish) {
  const BrokerOptions& options = shard_.broker().options();
  Inc(shard_.stats().messages_received[publish.qos]);
  if (version_ == ProtocolVersion::kV5 && !ResolveTopicAlias(publish)) return;
  if (publish.qos == 2) {
    if (session_->incoming_qos2.contains(publish.packet_id)) {
      // A resent QoS 2 PUBLISH we already accepted: acknowledge again, deliver once
      // [MQTT-4.3.3-9].
      codec::Pubrec pubrec;
      pubrec.packet_id = publish.packet_id;
      SendAck(pubrec);
      return;
    }
    if (session_->incoming_qos2.size() >= options.max_inflight) {
      CloseWith(ReasonCode::kReceiveMaximumExceeded);  // [MQTT-3.3.4-7]
      return;
    }
  }
  if (options.debug_fault_injection && publish.topic == "$meshmq/debug/throw") {
    throw std::runtime_error("fault injection: $meshmq/debug/throw");
  }
  ChargePublish(publish);
  ReasonCode ack_code = AdmitPublish(publish);
  int routed_qos = publish.qos;  // a publish hook may route it at another QoS
  StoreWait wait{id_, ++next_ticket_, 0};
  StoreWait* wait_for = shard_.broker().storage() != nullptr && publish.qos > 0 ? &wait : nullptr;
  if (ack_code != ReasonCode::kSuccess) {
    if (version_ != ProtocolVersion::kV5 &&
        (publish.qos > 0 || ack_code == ReasonCode::kTopicNameInvalid)) {
      // 3.x acks carry no reason: closing without an ack leaves a QoS 1/2 message with the
      // client, which sends it again on its next connection (docs/security.md).
      CloseWith(ack_code);
      return;
    }
    if (publish.qos == 0) {
      if (ack_code == ReasonCode::kQuotaExceeded) shard_.stats().Drop(DropReason::kMemory);
      return;
    }
  } else if (publish.topic.starts_with("$SYS")) {
    // $SYS is the broker's own namespace: client publishes there are acknowledged and dropped.
    shard_.stats().Drop(DropReason::kNotAuthorized);
    ack_code = ReasonCode::kNotAuthorized;
  } else if (!Authorized(auth::Action::kPublish, publish.topic)) {
    shard_.stats().Drop(DropReason::kNotAuthorized);
    ack_code = DenialCode();
  } else if (publish.properties.payload_format_indicator.value_or(0) == 1 &&
             !codec::IsValidUtf8(publish.payload.view())) {
    ack_code = ReasonCode::kPayloadFormatInvalid;  // [MQTT-3.3.2-4] may be checked by the server
  } else if (!shard_.broker().hooks().empty() && !PublishHooks(publish, routed_qos)) {
    shard_.stats().Drop(DropReason::kHook);
    ack_code = ReasonCode::kImplementationSpecificError;
  } else {
    MessagePtr msg = MessageFromPublish(publish, client_id(), options.node_id, routed_qos);
    if (msg->retain) shard_.broker().StoreRetained(msg, true, shard_.index());
    RouteScope scope;
    if (!shard_.Route(msg, scope, wait_for)) {
      shard_.stats().Drop(DropReason::kNoSubscribers);
      ack_code = ReasonCode::kNoMatchingSubscribers;
    }
  }
  if (version_ != ProtocolVersion::kV5 && ack_code != ReasonCode::kSuccess) {
    ack_code = ReasonCode::kSuccess;  // 3.x acks carry no reason
  }
  if (publish.qos == 1) {
    codec::Puback puback;
    puback.packet_id = publish.packet_id;
    puback.reason_code = ack_code;
    SendAck(puback, wait.ticket, wait.shards);
  } else if (publish.qos == 2) {
    codec::Pubrec pubrec;
    pubrec.packet_id = publish.packet_id;
    pubrec.reason_code = ack_code;
    // A failed QoS 2 exchange ends at PUBREC [MQTT-4.3.3-4]; only success awaits PUBREL.
    if (static_cast<uint8_t>(ack_code) < 0x80) {
      session_->incoming_qos2.insert(publish.packet_id);
      if (session_->stored) {
        shard_.Batch()->PutIncomingQos2(shard_.index(), client_id(), publish.packet_id);
      }
    }
    SendAck(pubrec, wait.ticket, wait.shards);
  }
}

}  // namespace meshmq::broker
