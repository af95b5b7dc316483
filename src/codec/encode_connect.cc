// CONNECT and CONNACK bodies.
#include "codec/body_encoders.h"
#include "codec/property_codec.h"

namespace meshmq::codec::internal {
namespace {

bool IsV5(ProtocolVersion v) { return v == ProtocolVersion::kV5; }

uint8_t ConnectFlags(const Connect& c) {
  uint8_t flags = 0;
  if (c.username) flags |= 0x80;
  if (c.password) flags |= 0x40;
  if (c.will) {
    flags |= 0x04 | static_cast<uint8_t>((c.will->qos & 0x03) << 3);
    if (c.will->retain) flags |= 0x20;
  }
  if (c.clean_start) flags |= 0x02;
  return flags;
}

}  // namespace

// The version argument, not Connect::version, picks the protocol name and level, so one Connect
// value can be sent in any version.
void WriteBody(const Connect& c, ProtocolVersion v, Writer& w) {
  w.Str(v == ProtocolVersion::kV31 ? "MQIsdp" : "MQTT");
  w.U8(static_cast<uint8_t>(v));
  w.U8(ConnectFlags(c));
  w.U16(c.keep_alive);
  if (IsV5(v)) EncodeProperties(c.properties, w);
  w.Str(c.client_id);
  if (c.will) {
    if (IsV5(v)) EncodeProperties(c.will->properties, w);
    w.Str(c.will->topic);
    w.Str(c.will->payload.view());
  }
  if (c.username) w.Str(*c.username);
  if (c.password) w.Str(*c.password);
}

void WriteBody(const Connack& c, ProtocolVersion v, Writer& w) {
  w.U8(c.session_present ? 1 : 0);
  if (!IsV5(v)) {
    w.U8(static_cast<uint8_t>(ToV3ConnackCode(c.reason_code)));
    return;
  }
  w.U8(static_cast<uint8_t>(c.reason_code));
  EncodeProperties(c.properties, w);
}

}  // namespace meshmq::codec::internal
