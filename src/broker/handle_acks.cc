// PUBACK, PUBREC, PUBREL, PUBCOMP: completing QoS 1 and 2 exchanges in both directions.
#include "broker/broker.h"
#include "broker/client.h"
#include "broker/shard.h"

namespace meshmq::broker {

using codec::ProtocolVersion;
using codec::ReasonCode;

void Client::HandlePuback(const codec::Puback& ack) {
  OutboundInflight* entry = session_->FindInflight(ack.packet_id);
  if (entry == nullptr || entry->delivery.qos != 1) return;  // unknown ids are ignored
  shard_.UnstoreMessage(*session_, entry->delivery);
  session_->RemoveInflight(ack.packet_id);
  Add(shard_.stats().inflight, -1);
  DrainQueue();
}

void Client::HandlePubrec(const codec::Pubrec& ack) {
  OutboundInflight* entry = session_->FindInflight(ack.packet_id);
  codec::Pubrel pubrel;
  pubrel.packet_id = ack.packet_id;
  if (entry == nullptr || entry->delivery.qos != 2) {
    if (version_ == ProtocolVersion::kV5) {
      pubrel.reason_code = ReasonCode::kPacketIdentifierNotFound;
      Send(pubrel);
    }
    return;
  }
  if (static_cast<uint8_t>(ack.reason_code) >= 0x80) {
    // The receiver refused the message: the exchange ends here [MQTT-4.3.3-4].
    shard_.UnstoreMessage(*session_, entry->delivery);
    session_->RemoveInflight(ack.packet_id);
    Add(shard_.stats().inflight, -1);
    DrainQueue();
    return;
  }
  entry->pubrec_received = true;
  entry->delivery.msg.reset();  // only the packet id matters from now on [MQTT-4.3.3-5]
  shard_.StoreMessage(*session_, ack.packet_id, true, entry->delivery);
  Send(pubrel);
}

void Client::HandlePubrel(const codec::Pubrel& ack) {
  codec::Pubcomp pubcomp;
  pubcomp.packet_id = ack.packet_id;
  if (session_->incoming_qos2.erase(ack.packet_id) == 0) {
    if (version_ == ProtocolVersion::kV5) pubcomp.reason_code = ReasonCode::kPacketIdentifierNotFound;
  } else if (session_->stored) {
    shard_.Batch()->DeleteIncomingQos2(shard_.index(), client_id(), ack.packet_id);
  }
  SendAck(pubcomp);
}

void Client::HandlePubcomp(const codec::Pubcomp& ack) {
  OutboundInflight* entry = session_->FindInflight(ack.packet_id);
  if (entry == nullptr || !entry->pubrec_received) return;
  shard_.UnstoreMessage(*session_, entry->delivery);
  session_->RemoveInflight(ack.packet_id);
  Add(shard_.stats().inflight, -1);
  DrainQueue();
}

}  // namespace meshmq::broker
