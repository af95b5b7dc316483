// Decoding of the MQTT 5.0 property block.
#include <optional>
#include <string>

#include "codec/property_codec.h"
#include "codec/topic_rules.h"

namespace meshmq::codec::internal {
namespace {

constexpr uint16_t Bit(PropertyContext c) { return uint16_t{1} << static_cast<uint8_t>(c); }

constexpr uint16_t kWillAndPublish = Bit(PropertyContext::kWill) | Bit(PropertyContext::kPublish);
constexpr uint16_t kAllContexts = 0xFFFF;

// Spec table 2.2.2.2: the packets (and Will) each property may appear in; 0 = unknown id.
uint16_t AllowedContexts(uint32_t id) {
  using C = PropertyContext;
  switch (static_cast<PropertyId>(id)) {
    case PropertyId::kPayloadFormatIndicator:
    case PropertyId::kMessageExpiryInterval:
    case PropertyId::kContentType:
    case PropertyId::kResponseTopic:
    case PropertyId::kCorrelationData:
      return kWillAndPublish;
    case PropertyId::kSubscriptionIdentifier:
      return Bit(C::kPublish) | Bit(C::kSubscribe);
    case PropertyId::kSessionExpiryInterval:
      return Bit(C::kConnect) | Bit(C::kConnack) | Bit(C::kDisconnect);
    case PropertyId::kAssignedClientIdentifier:
    case PropertyId::kServerKeepAlive:
    case PropertyId::kResponseInformation:
    case PropertyId::kMaximumQos:
    case PropertyId::kRetainAvailable:
    case PropertyId::kWildcardSubscriptionAvailable:
    case PropertyId::kSubscriptionIdentifierAvailable:
    case PropertyId::kSharedSubscriptionAvailable:
      return Bit(C::kConnack);
    case PropertyId::kAuthenticationMethod:
    case PropertyId::kAuthenticationData:
      return Bit(C::kConnect) | Bit(C::kConnack) | Bit(C::kAuth);
    case PropertyId::kRequestProblemInformation:
    case PropertyId::kRequestResponseInformation:
      return Bit(C::kConnect);
    case PropertyId::kWillDelayInterval:
      return Bit(C::kWill);
    case PropertyId::kServerReference:
      return Bit(C::kConnack) | Bit(C::kDisconnect);
    case PropertyId::kReasonString:
      return Bit(C::kConnack) | Bit(C::kPuback) | Bit(C::kPubrec) | Bit(C::kPubrel) |
             Bit(C::kPubcomp) | Bit(C::kSuback) | Bit(C::kUnsuback) | Bit(C::kDisconnect) |
             Bit(C::kAuth);
    case PropertyId::kReceiveMaximum:
    case PropertyId::kTopicAliasMaximum:
    case PropertyId::kMaximumPacketSize:
      return Bit(C::kConnect) | Bit(C::kConnack);
    case PropertyId::kTopicAlias:
      return Bit(C::kPublish);
    case PropertyId::kUserProperty:
      return kAllContexts;
  }
  return 0;
}

bool Duplicate(Reader& r) { return r.ProtocolError("duplicate property"); }

// A byte property whose value must be at most `max` (0/1 flags, Maximum QoS 0/1).
bool SetByte(Reader& r, std::optional<uint8_t>& slot, uint8_t max) {
  if (slot) return Duplicate(r);
  uint8_t v;
  if (!r.U8(v)) return false;
  if (v > max) return r.ProtocolError("property value out of range");
  slot = v;
  return true;
}

bool SetU16(Reader& r, std::optional<uint16_t>& slot, bool nonzero) {
  if (slot) return Duplicate(r);
  uint16_t v;
  if (!r.U16(v)) return false;
  if (nonzero && v == 0) return r.ProtocolError("property value 0 not allowed");
  slot = v;
  return true;
}

bool SetU32(Reader& r, std::optional<uint32_t>& slot, bool nonzero) {
  if (slot) return Duplicate(r);
  uint32_t v;
  if (!r.U32(v)) return false;
  if (nonzero && v == 0) return r.ProtocolError("property value 0 not allowed");
  slot = v;
  return true;
}

bool SetString(Reader& r, std::optional<std::string>& slot, bool utf8) {
  if (slot) return Duplicate(r);
  std::string s;
  if (!(utf8 ? r.Utf8(s, "property") : r.Binary(s))) return false;
  slot = std::move(s);
  return true;
}

bool AddSubscriptionId(Reader& r, PropertyContext context, Properties& p) {
  // Only PUBLISH may carry several (one per matching subscription) [MQTT-3.3.4-4].
  if (context != PropertyContext::kPublish && !p.subscription_identifiers.empty()) {
    return Duplicate(r);
  }
  uint32_t v;
  if (!r.VarInt(v)) return false;
  if (v == 0) return r.ProtocolError("subscription identifier 0");
  p.subscription_identifiers.push_back(v);
  return true;
}

bool AddUserProperty(Reader& r, Properties& p) {
  std::string key;
  std::string value;
  if (!r.Utf8(key, "user property") || !r.Utf8(value, "user property")) return false;
  p.user_properties.emplace_back(std::move(key), std::move(value));
  return true;
}

bool SetTopicAlias(Reader& r, Properties& p) {
  if (p.topic_alias) return Duplicate(r);
  uint16_t v;
  if (!r.U16(v)) return false;
  if (v == 0) return r.Fail(ReasonCode::kTopicAliasInvalid, "topic alias 0");  // [MQTT-3.3.2-8]
  p.topic_alias = v;
  return true;
}

bool SetResponseTopic(Reader& r, Properties& p) {
  if (!SetString(r, p.response_topic, true)) return false;
  if (!IsValidTopicName(*p.response_topic)) {  // [MQTT-3.3.2-14]
    return r.ProtocolError("response topic is not a valid topic name");
  }
  return true;
}

bool DecodeOne(Reader& r, uint32_t id, PropertyContext context, Properties& p) {
  switch (static_cast<PropertyId>(id)) {
    case PropertyId::kPayloadFormatIndicator:
      return SetByte(r, p.payload_format_indicator, 1);
    case PropertyId::kMessageExpiryInterval:
      return SetU32(r, p.message_expiry_interval, false);
    case PropertyId::kContentType:
      return SetString(r, p.content_type, true);
    case PropertyId::kResponseTopic:
      return SetResponseTopic(r, p);
    case PropertyId::kCorrelationData:
      return SetString(r, p.correlation_data, false);
    case PropertyId::kSubscriptionIdentifier:
      return AddSubscriptionId(r, context, p);
    case PropertyId::kSessionExpiryInterval:
      return SetU32(r, p.session_expiry_interval, false);
    case PropertyId::kAssignedClientIdentifier:
      return SetString(r, p.assigned_client_identifier, true);
    case PropertyId::kServerKeepAlive:
      return SetU16(r, p.server_keep_alive, false);
    case PropertyId::kAuthenticationMethod:
      return SetString(r, p.authentication_method, true);
    case PropertyId::kAuthenticationData:
      return SetString(r, p.authentication_data, false);
    case PropertyId::kRequestProblemInformation:
      return SetByte(r, p.request_problem_information, 1);
    case PropertyId::kWillDelayInterval:
      return SetU32(r, p.will_delay_interval, false);
    case PropertyId::kRequestResponseInformation:
      return SetByte(r, p.request_response_information, 1);
    case PropertyId::kResponseInformation:
      return SetString(r, p.response_information, true);
    case PropertyId::kServerReference:
      return SetString(r, p.server_reference, true);
    case PropertyId::kReasonString:
      return SetString(r, p.reason_string, true);
    case PropertyId::kReceiveMaximum:
      return SetU16(r, p.receive_maximum, true);
    case PropertyId::kTopicAliasMaximum:
      return SetU16(r, p.topic_alias_maximum, false);
    case PropertyId::kTopicAlias:
      return SetTopicAlias(r, p);
    case PropertyId::kMaximumQos:
      return SetByte(r, p.maximum_qos, 1);
    case PropertyId::kRetainAvailable:
      return SetByte(r, p.retain_available, 1);
    case PropertyId::kUserProperty:
      return AddUserProperty(r, p);
    case PropertyId::kMaximumPacketSize:
      return SetU32(r, p.maximum_packet_size, true);
    case PropertyId::kWildcardSubscriptionAvailable:
      return SetByte(r, p.wildcard_subscription_available, 1);
    case PropertyId::kSubscriptionIdentifierAvailable:
      return SetByte(r, p.subscription_identifier_available, 1);
    case PropertyId::kSharedSubscriptionAvailable:
      return SetByte(r, p.shared_subscription_available, 1);
  }
  return r.Malformed("unknown property identifier");
}

}  // namespace

bool DecodeProperties(Reader& r, PropertyContext context, Properties& props) {
  uint32_t length;
  if (!r.VarInt(length)) return false;
  if (length > r.remaining()) return r.Malformed("property length overruns the packet");
  Reader block = r.Sub(length);
  while (!block.AtEnd()) {
    uint32_t id;
    if (!block.VarInt(id)) return false;
    uint16_t allowed = AllowedContexts(id);
    if (allowed == 0) return block.Malformed("unknown property identifier");
    if ((allowed & Bit(context)) == 0) return block.ProtocolError("property not allowed here");
    if (!DecodeOne(block, id, context, props)) return false;
  }
  return true;
}

}  // namespace meshmq::codec::internal
