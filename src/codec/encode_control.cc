// PINGREQ, PINGRESP, DISCONNECT and AUTH bodies, and the fixed-header flags of every type.
#include "codec/body_encoders.h"
#include "codec/property_codec.h"

namespace meshmq::codec::internal {
namespace {

// DISCONNECT / AUTH v5 shortest form: empty for Success without properties; DISCONNECT drops
// the property length when there are none (spec 3.14.2.2). AUTH keeps it: spec 3.15.2 only
// defines the empty form and the full form.
template <typename T>
void WriteReasonAndProperties(const T& p, bool omit_empty_properties, Writer& w) {
  bool no_props = IsEmpty(p.properties);
  if (p.reason_code == ReasonCode::kSuccess && no_props) return;
  w.U8(static_cast<uint8_t>(p.reason_code));
  if (!no_props || !omit_empty_properties) EncodeProperties(p.properties, w);
}

}  // namespace

void WriteBody(const Pingreq&, ProtocolVersion, Writer&) {}
void WriteBody(const Pingresp&, ProtocolVersion, Writer&) {}

void WriteBody(const Disconnect& d, ProtocolVersion v, Writer& w) {
  if (v == ProtocolVersion::kV5) WriteReasonAndProperties(d, true, w);
}

// AUTH exists only in v5; asked for another version it is still written in the v5 layout, as
// the encoder has no way to refuse (the decoder rejects it before v5).
void WriteBody(const Auth& a, ProtocolVersion, Writer& w) { WriteReasonAndProperties(a, false, w); }

uint8_t PublishFlags(bool dup, uint8_t qos, bool retain) {
  return static_cast<uint8_t>((dup ? 0x08 : 0) | ((qos & 0x03) << 1) | (retain ? 0x01 : 0));
}

uint8_t FixedHeaderFlags(const Packet& packet) {
  if (const auto* p = std::get_if<Publish>(&packet)) return PublishFlags(*p);
  // [MQTT-3.6.1-1], [MQTT-3.8.1-1], [MQTT-3.10.1-1]
  if (std::holds_alternative<Pubrel>(packet) || std::holds_alternative<Subscribe>(packet) ||
      std::holds_alternative<Unsubscribe>(packet)) {
    return 0x02;
  }
  return 0;
}

}  // namespace meshmq::codec::internal
