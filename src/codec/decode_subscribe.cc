// SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK (spec 3.8 - 3.11).
//
// Topic filter syntax is deliberately not checked here: a v5 broker answers a bad filter with
// SUBACK 0x8F for that filter alone instead of dropping the connection.
#include <string>

#include "codec/body_decoders.h"
#include "codec/property_codec.h"

namespace meshmq::codec::internal {
namespace {

bool IsShared(const std::string& filter) { return filter.rfind("$share/", 0) == 0; }

bool ReadOptions(Reader& r, ProtocolVersion version, SubscribeRequest& s) {
  uint8_t options;
  if (!r.U8(options)) return false;
  bool v5 = version == ProtocolVersion::kV5;
  // Reserved bits: 6-7 in v5 [MQTT-3.8.3-5], 2-7 in 3.x [MQTT-3-8.3-4].
  if (options & (v5 ? 0xC0 : 0xFC)) return r.Malformed("SUBSCRIBE: reserved option bits set");
  s.qos = options & 0x03;
  if (s.qos == 3) return r.Malformed("SUBSCRIBE: qos 3");
  if (!v5) return true;
  s.no_local = (options & 0x04) != 0;
  s.retain_as_published = (options & 0x08) != 0;
  s.retain_handling = (options >> 4) & 0x03;
  if (s.retain_handling == 3) return r.ProtocolError("SUBSCRIBE: retain handling 3");
  if (s.no_local && IsShared(s.filter)) {
    return r.ProtocolError("SUBSCRIBE: no local on a shared subscription");  // [MQTT-3.8.3-4]
  }
  return true;
}

bool ReadV5Properties(Reader& r, const BodyContext& ctx, PacketType type, Properties& props) {
  return ctx.version != ProtocolVersion::kV5 || DecodeProperties(r, ContextOf(type), props);
}

bool ReadReasonCodes(Reader& r, PacketType type, std::vector<ReasonCode>& codes) {
  while (!r.AtEnd()) {
    if (!ReadReasonCode(r, type, codes.emplace_back())) return false;
  }
  return true;
}

}  // namespace

bool DecodeSubscribe(Reader& r, BodyContext& ctx, Packet& out) {
  Subscribe& s = out.emplace<Subscribe>();
  if (!ReadPacketId(r, s.packet_id)) return false;
  if (!ReadV5Properties(r, ctx, PacketType::kSubscribe, s.properties)) return false;
  while (!r.AtEnd()) {
    SubscribeRequest& req = s.subscriptions.emplace_back();
    if (!r.Utf8(req.filter, "topic filter") || !ReadOptions(r, ctx.version, req)) return false;
  }
  if (s.subscriptions.empty()) {
    return r.ProtocolError("SUBSCRIBE: no topic filter");  // [MQTT-3.8.3-3]
  }
  return true;
}

bool DecodeSuback(Reader& r, BodyContext& ctx, Packet& out) {
  Suback& s = out.emplace<Suback>();
  if (!ReadPacketId(r, s.packet_id)) return false;
  if (ctx.version == ProtocolVersion::kV5) {
    return ReadV5Properties(r, ctx, PacketType::kSuback, s.properties) &&
           ReadReasonCodes(r, PacketType::kSuback, s.reason_codes);
  }
  while (!r.AtEnd()) {
    uint8_t code;
    if (!r.U8(code)) return false;
    if (code > 2 && code != 0x80) return r.Malformed("SUBACK: bad return code");
    s.reason_codes.push_back(static_cast<ReasonCode>(code));
  }
  return true;
}

bool DecodeUnsubscribe(Reader& r, BodyContext& ctx, Packet& out) {
  Unsubscribe& u = out.emplace<Unsubscribe>();
  if (!ReadPacketId(r, u.packet_id)) return false;
  if (!ReadV5Properties(r, ctx, PacketType::kUnsubscribe, u.properties)) return false;
  while (!r.AtEnd()) {
    if (!r.Utf8(u.filters.emplace_back(), "topic filter")) return false;
  }
  if (u.filters.empty()) {
    return r.ProtocolError("UNSUBSCRIBE: no topic filter");  // [MQTT-3.10.3-2]
  }
  return true;
}

bool DecodeUnsuback(Reader& r, BodyContext& ctx, Packet& out) {
  Unsuback& u = out.emplace<Unsuback>();
  if (!ReadPacketId(r, u.packet_id)) return false;
  if (ctx.version != ProtocolVersion::kV5) return r.ExpectEnd("UNSUBACK");  // no payload in 3.x
  return ReadV5Properties(r, ctx, PacketType::kUnsuback, u.properties) &&
         ReadReasonCodes(r, PacketType::kUnsuback, u.reason_codes);
}

}  // namespace meshmq::codec::internal
