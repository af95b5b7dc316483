// CONNECT and CONNACK bodies (spec 3.1, 3.2).
#include <iterator>
#include <string>

#include "codec/body_decoders.h"
#include "codec/property_codec.h"
#include "codec/topic_rules.h"

namespace meshmq::codec::internal {
namespace {

constexpr uint8_t kUsernameFlag = 0x80;
constexpr uint8_t kPasswordFlag = 0x40;
constexpr uint8_t kWillRetainFlag = 0x20;
constexpr uint8_t kWillQosMask = 0x18;
constexpr uint8_t kWillFlag = 0x04;
constexpr uint8_t kCleanStartFlag = 0x02;
constexpr uint8_t kReservedFlag = 0x01;

// Protocol name and level to a version; the name and level must agree [MQTT-3.1.2-1],
// [MQTT-3.1.2-2].
bool ReadProtocol(Reader& r, BodyContext& ctx, ProtocolVersion& version) {
  std::string name;
  uint8_t level;
  if (!r.Utf8(name, "protocol name") || !r.U8(level)) return false;
  bool known_level = level >= 3 && level <= 5;
  // Answer in the format the client asked for when the level is one we know of.
  ctx.connect_version = known_level ? static_cast<ProtocolVersion>(level) : ProtocolVersion::kV311;
  if ((name == "MQIsdp" && level == 3) || (name == "MQTT" && (level == 4 || level == 5))) {
    version = static_cast<ProtocolVersion>(level);
    return true;
  }
  return r.Fail(ReasonCode::kUnsupportedProtocolVersion, "unsupported protocol name or level");
}

bool CheckFlags(Reader& r, uint8_t flags, ProtocolVersion version) {
  if (flags & kReservedFlag) return r.Malformed("CONNECT: reserved flag set");  // [MQTT-3.1.2-3]
  uint8_t will_qos = (flags & kWillQosMask) >> 3;
  if (will_qos == 3) return r.Malformed("CONNECT: will qos 3");  // [MQTT-3.1.2-14]
  if (!(flags & kWillFlag) && (will_qos != 0 || (flags & kWillRetainFlag))) {
    // [MQTT-3.1.2-13], [MQTT-3.1.2-15]
    return r.Malformed("CONNECT: will qos/retain without will flag");
  }
  // 5.0 allows a password without a user name; 3.x does not [MQTT-3.1.2-22].
  if (version != ProtocolVersion::kV5 && (flags & kPasswordFlag) && !(flags & kUsernameFlag)) {
    return r.Malformed("CONNECT: password without user name");
  }
  return true;
}

bool ReadWill(Reader& r, uint8_t flags, ProtocolVersion version, Will& will) {
  will.qos = (flags & kWillQosMask) >> 3;
  will.retain = (flags & kWillRetainFlag) != 0;
  if (version == ProtocolVersion::kV5 &&
      !DecodeProperties(r, PropertyContext::kWill, will.properties)) {
    return false;
  }
  if (!r.Utf8(will.topic, "will topic")) return false;
  if (!IsValidTopicName(will.topic)) {  // [MQTT-3.1.3-11] a will topic is a topic name
    return r.Fail(ReasonCode::kTopicNameInvalid, "CONNECT: invalid will topic");
  }
  return r.SharedBinary(will.payload);
}

bool ReadPayload(Reader& r, uint8_t flags, Connect& c) {
  if (!r.Utf8(c.client_id, "client id")) return false;  // [MQTT-3.1.3-4]
  if (flags & kWillFlag) {
    if (!ReadWill(r, flags, c.version, c.will.emplace())) return false;
  }
  if (flags & kUsernameFlag) {
    if (!r.Utf8(c.username.emplace(), "user name")) return false;
  }
  if (flags & kPasswordFlag) {
    if (!r.Binary(c.password.emplace())) return false;
  }
  return r.ExpectEnd("CONNECT");
}

// v3 return codes 1..5 map to the v5 codes that ToV3ConnackCode maps back to them.
bool FromV3ConnackCode(uint8_t code, ReasonCode& out) {
  static constexpr ReasonCode kMap[] = {ReasonCode::kSuccess,
                                        ReasonCode::kUnsupportedProtocolVersion,
                                        ReasonCode::kClientIdentifierNotValid,
                                        ReasonCode::kServerUnavailable,
                                        ReasonCode::kBadUserNameOrPassword,
                                        ReasonCode::kNotAuthorized};
  if (code >= std::size(kMap)) return false;
  out = kMap[code];
  return true;
}

}  // namespace

bool DecodeConnect(Reader& r, BodyContext& ctx, Packet& out) {
  Connect& c = out.emplace<Connect>();
  uint8_t flags;
  if (!ReadProtocol(r, ctx, c.version) || !r.U8(flags)) return false;
  if (!CheckFlags(r, flags, c.version) || !r.U16(c.keep_alive)) return false;
  c.clean_start = (flags & kCleanStartFlag) != 0;
  if (c.version == ProtocolVersion::kV5 &&
      !DecodeProperties(r, PropertyContext::kConnect, c.properties)) {
    return false;
  }
  return ReadPayload(r, flags, c);
}

bool DecodeConnack(Reader& r, BodyContext& ctx, Packet& out) {
  Connack& c = out.emplace<Connack>();
  uint8_t ack_flags;
  uint8_t code;
  if (!r.U8(ack_flags) || !r.U8(code)) return false;
  if (ack_flags & 0xFE) return r.Malformed("CONNACK: reserved flags set");  // [MQTT-3.2.2-1]
  c.session_present = (ack_flags & 0x01) != 0;
  if (ctx.version != ProtocolVersion::kV5) {
    if (!FromV3ConnackCode(code, c.reason_code)) return r.Malformed("CONNACK: bad return code");
    return r.ExpectEnd("CONNACK");
  }
  if (!IsReasonCodeAllowed(PacketType::kConnack, code)) {
    return r.ProtocolError("CONNACK: reason code not allowed");
  }
  c.reason_code = static_cast<ReasonCode>(code);
  if (!DecodeProperties(r, PropertyContext::kConnack, c.properties)) return false;
  return r.ExpectEnd("CONNACK");
}

}  // namespace meshmq::codec::internal
