// SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK bodies.
#include "codec/body_encoders.h"
#include "codec/property_codec.h"

namespace meshmq::codec::internal {
namespace {

bool IsV5(ProtocolVersion v) { return v == ProtocolVersion::kV5; }

uint8_t SubscriptionOptions(const SubscribeRequest& s, ProtocolVersion v) {
  uint8_t options = s.qos & 0x03;
  if (!IsV5(v)) return options;  // 3.x has only the QoS bits
  if (s.no_local) options |= 0x04;
  if (s.retain_as_published) options |= 0x08;
  options |= static_cast<uint8_t>((s.retain_handling & 0x03) << 4);
  return options;
}

void WriteCodes(const std::vector<ReasonCode>& codes, Writer& w) {
  for (ReasonCode code : codes) w.U8(static_cast<uint8_t>(code));
}

}  // namespace

void WriteBody(const Subscribe& s, ProtocolVersion v, Writer& w) {
  w.U16(s.packet_id);
  if (IsV5(v)) EncodeProperties(s.properties, w);
  for (const SubscribeRequest& req : s.subscriptions) {
    w.Str(req.filter);
    w.U8(SubscriptionOptions(req, v));
  }
}

void WriteBody(const Suback& s, ProtocolVersion v, Writer& w) {
  w.U16(s.packet_id);
  if (IsV5(v)) EncodeProperties(s.properties, w);
  WriteCodes(s.reason_codes, w);  // 3.x return codes 0, 1, 2, 0x80 are the same bytes
}

void WriteBody(const Unsubscribe& u, ProtocolVersion v, Writer& w) {
  w.U16(u.packet_id);
  if (IsV5(v)) EncodeProperties(u.properties, w);
  for (const std::string& filter : u.filters) w.Str(filter);
}

void WriteBody(const Unsuback& u, ProtocolVersion v, Writer& w) {
  w.U16(u.packet_id);
  if (!IsV5(v)) return;  // 3.x UNSUBACK has no payload
  EncodeProperties(u.properties, w);
  WriteCodes(u.reason_codes, w);
}

}  // namespace meshmq::codec::internal
