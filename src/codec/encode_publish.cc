// PUBLISH and the four publish acknowledgements.
#include "codec/body_encoders.h"
#include "codec/property_codec.h"

namespace meshmq::codec::internal {
namespace {

// v5 shortest form: nothing after the packet id for Success without properties, and no property
// length when there are no properties (spec 3.4.2.1).
template <typename Ack>
void WriteAck(const Ack& a, ProtocolVersion v, Writer& w) {
  w.U16(a.packet_id);
  if (v != ProtocolVersion::kV5) return;
  bool no_props = IsEmpty(a.properties);
  if (a.reason_code == ReasonCode::kSuccess && no_props) return;
  w.U8(static_cast<uint8_t>(a.reason_code));
  if (!no_props) EncodeProperties(a.properties, w);
}

}  // namespace

void WritePublishVariableHeader(const Publish& p, ProtocolVersion v, Writer& w) {
  w.Str(p.topic);
  if (p.qos > 0) w.U16(p.packet_id);
  if (v == ProtocolVersion::kV5) EncodeProperties(p.properties, w);
}

void WriteBody(const Publish& p, ProtocolVersion v, Writer& w) {
  WritePublishVariableHeader(p, v, w);
  w.Raw(p.payload.view());
}

void WriteBody(const Puback& p, ProtocolVersion v, Writer& w) { WriteAck(p, v, w); }
void WriteBody(const Pubrec& p, ProtocolVersion v, Writer& w) { WriteAck(p, v, w); }
void WriteBody(const Pubrel& p, ProtocolVersion v, Writer& w) { WriteAck(p, v, w); }
void WriteBody(const Pubcomp& p, ProtocolVersion v, Writer& w) { WriteAck(p, v, w); }

}  // namespace meshmq::codec::internal
