// DISCONNECT and AUTH from a client.
#include "broker/broker.h"
#include "broker/client.h"
#include "broker/shard.h"

namespace meshmq::broker {

using codec::ProtocolVersion;
using codec::ReasonCode;

void Client::HandleDisconnect(const codec::Disconnect& disconnect) {
  if (version_ == ProtocolVersion::kV5) {
    if (auto expiry = disconnect.properties.session_expiry_interval) {
      // A session that was to end with the connection may not be extended now [MQTT-3.14.2-2].
      if (requested_expiry_s_ == 0 && *expiry != 0) {
        CloseWith(ReasonCode::kProtocolError);
        return;
      }
      session_->expiry_interval_s = std::min(*expiry, shard_.broker().options().max_session_expiry);
    }
  }
  // A normal DISCONNECT discards the will [MQTT-3.14.4-3]; v5 0x04 asks for it to be sent.
  bool send_will = version_ == ProtocolVersion::kV5 &&
                   disconnect.reason_code == ReasonCode::kDisconnectWithWill;
  if (!send_will) will_.reset();
  DetachSession(send_will);
  state_ = State::kClosed;
  CancelTimer();
  channel_.Close();
}

void Client::HandleAuth(const codec::Auth& auth) {
  // No enhanced authentication method is offered, so an AUTH packet is a protocol error
  // [MQTT-4.12.0-1].
  CloseWith(ReasonCode::kProtocolError);
}

}  // namespace meshmq::broker
