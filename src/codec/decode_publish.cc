// PUBLISH and its acknowledgements PUBACK, PUBREC, PUBREL, PUBCOMP (spec 3.3 - 3.7).
#include <string>

#include "codec/body_decoders.h"
#include "codec/property_codec.h"
#include "codec/topic_rules.h"

namespace meshmq::codec::internal {
namespace {

// Topic checks run after the properties are read because in v5 an empty topic is legal when a
// Topic Alias is present (spec 3.3.2.1).
bool CheckTopic(Reader& r, const BodyContext& ctx, const Publish& p) {
  if (p.topic.empty()) {
    if (ctx.version != ProtocolVersion::kV5) {
      return r.Fail(ReasonCode::kTopicNameInvalid, "PUBLISH: empty topic");  // [MQTT-4.7.3-1]
    }
    if (!p.properties.topic_alias) {
      return r.ProtocolError("PUBLISH: empty topic without topic alias");
    }
    return true;
  }
  // Ill-formed UTF-8 (U+0000 included) makes the packet Malformed [MQTT-1.5.4-1]; a well-formed
  // name with a wildcard gets the specific Topic Name invalid code [MQTT-3.3.2-2].
  if (!IsValidUtf8(p.topic)) return r.Malformed("PUBLISH: topic is not valid UTF-8");
  if (!IsValidTopicName(p.topic)) {
    return r.Fail(ReasonCode::kTopicNameInvalid, "PUBLISH: invalid topic name");
  }
  return true;
}

template <typename Ack>
bool DecodeAck(Reader& r, BodyContext& ctx, Packet& out) {
  Ack& ack = out.emplace<Ack>();
  if (!ReadPacketId(r, ack.packet_id)) return false;
  // v5: reason code and properties may be omitted (remaining length 2, or 3 without properties).
  if (ctx.version == ProtocolVersion::kV5 && !r.AtEnd()) {
    if (!ReadReasonCode(r, Ack::kPacketType, ack.reason_code)) return false;
    if (!r.AtEnd() && !DecodeProperties(r, ContextOf(Ack::kPacketType), ack.properties)) {
      return false;
    }
  }
  return r.ExpectEnd(PacketTypeName(Ack::kPacketType));
}

}  // namespace

bool DecodePublish(Reader& r, BodyContext& ctx, Packet& out) {
  Publish& p = out.emplace<Publish>();
  p.dup = (ctx.flags & 0x08) != 0;
  p.qos = (ctx.flags >> 1) & 0x03;
  p.retain = (ctx.flags & 0x01) != 0;
  if (p.qos == 3) return r.Malformed("PUBLISH: qos 3");                    // [MQTT-3.3.1-4]
  if (p.dup && p.qos == 0) return r.Malformed("PUBLISH: dup with qos 0");  // [MQTT-3.3.1-2]
  if (!r.Binary(p.topic)) return false;
  if (p.qos > 0 && !ReadPacketId(r, p.packet_id)) return false;
  if (ctx.version == ProtocolVersion::kV5 &&
      !DecodeProperties(r, PropertyContext::kPublish, p.properties)) {
    return false;
  }
  if (!CheckTopic(r, ctx, p)) return false;
  if (ctx.role == DecodeRole::kServer && !p.properties.subscription_identifiers.empty()) {
    return r.ProtocolError("PUBLISH: subscription identifier from a client");  // [MQTT-3.3.4-6]
  }
  p.payload = r.Rest();
  return true;
}

bool DecodePuback(Reader& r, BodyContext& ctx, Packet& out) {
  return DecodeAck<Puback>(r, ctx, out);
}
bool DecodePubrec(Reader& r, BodyContext& ctx, Packet& out) {
  return DecodeAck<Pubrec>(r, ctx, out);
}
bool DecodePubrel(Reader& r, BodyContext& ctx, Packet& out) {
  return DecodeAck<Pubrel>(r, ctx, out);
}
bool DecodePubcomp(Reader& r, BodyContext& ctx, Packet& out) {
  return DecodeAck<Pubcomp>(r, ctx, out);
}

}  // namespace meshmq::codec::internal
