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

void WritePublishVariableHeader(const PublishHeader& h, ProtocolVersion v, Writer& w) {
  w.Str(h.topic);
  if (h.qos > 0) w.U16(h.packet_id);
  if (v != ProtocolVersion::kV5) return;
  PublishPropertyOverrides o;
  o.subscription_identifiers = h.subscription_identifiers;
  o.message_expiry_interval = h.message_expiry_interval;
  o.topic_alias = h.topic_alias;
  EncodePublishProperties(h.properties, o, w);
}

PublishHeader HeaderOf(const Publish& p) {
  PublishHeader h;
  h.dup = p.dup;
  h.qos = p.qos;
  h.retain = p.retain;
  h.topic = p.topic;
  h.packet_id = p.packet_id;
  h.payload_size = p.payload.size();
  h.properties = &p.properties;
  return h;
}

void WriteBody(const Publish& p, ProtocolVersion v, Writer& w) {
  WritePublishVariableHeader(HeaderOf(p), v, w);
  w.Raw(p.payload.view());
}

void WriteBody(const Puback& p, ProtocolVersion v, Writer& w) { WriteAck(p, v, w); }
void WriteBody(const Pubrec& p, ProtocolVersion v, Writer& w) { WriteAck(p, v, w); }
void WriteBody(const Pubrel& p, ProtocolVersion v, Writer& w) { WriteAck(p, v, w); }
void WriteBody(const Pubcomp& p, ProtocolVersion v, Writer& w) { WriteAck(p, v, w); }

}  // namespace meshmq::codec::internal
