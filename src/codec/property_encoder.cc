// Encoding of the MQTT 5.0 property block, ordered by identifier so the output is canonical.
#include <optional>
#include <string>
#include <vector>

#include "codec/property_codec.h"

namespace meshmq::codec::internal {
namespace {

void Id(Writer& w, PropertyId id) { w.VarInt(static_cast<uint8_t>(id)); }

void Byte(Writer& w, PropertyId id, const std::optional<uint8_t>& v) {
  if (!v) return;
  Id(w, id);
  w.U8(*v);
}

void U16(Writer& w, PropertyId id, const std::optional<uint16_t>& v) {
  if (!v) return;
  Id(w, id);
  w.U16(*v);
}

void U32(Writer& w, PropertyId id, const std::optional<uint32_t>& v) {
  if (!v) return;
  Id(w, id);
  w.U32(*v);
}

void Str(Writer& w, PropertyId id, const std::optional<std::string>& v) {
  if (!v) return;
  Id(w, id);
  w.Str(*v);
}

// `o` (may be null) replaces a PUBLISH's per-subscriber values.
void WriteAll(const Properties& p, const PublishPropertyOverrides* o, Writer& w) {
  using P = PropertyId;
  Byte(w, P::kPayloadFormatIndicator, p.payload_format_indicator);
  U32(w, P::kMessageExpiryInterval,
      o != nullptr && o->message_expiry_interval ? o->message_expiry_interval
                                                 : p.message_expiry_interval);
  Str(w, P::kContentType, p.content_type);
  Str(w, P::kResponseTopic, p.response_topic);
  Str(w, P::kCorrelationData, p.correlation_data);
  const std::vector<uint32_t>& ids = o != nullptr && o->subscription_identifiers != nullptr
                                         ? *o->subscription_identifiers
                                         : p.subscription_identifiers;
  for (uint32_t id : ids) {
    Id(w, P::kSubscriptionIdentifier);
    w.VarInt(id);
  }
  U32(w, P::kSessionExpiryInterval, p.session_expiry_interval);
  Str(w, P::kAssignedClientIdentifier, p.assigned_client_identifier);
  U16(w, P::kServerKeepAlive, p.server_keep_alive);
  Str(w, P::kAuthenticationMethod, p.authentication_method);
  Str(w, P::kAuthenticationData, p.authentication_data);
  Byte(w, P::kRequestProblemInformation, p.request_problem_information);
  U32(w, P::kWillDelayInterval, p.will_delay_interval);
  Byte(w, P::kRequestResponseInformation, p.request_response_information);
  Str(w, P::kResponseInformation, p.response_information);
  Str(w, P::kServerReference, p.server_reference);
  Str(w, P::kReasonString, p.reason_string);
  U16(w, P::kReceiveMaximum, p.receive_maximum);
  U16(w, P::kTopicAliasMaximum, p.topic_alias_maximum);
  U16(w, P::kTopicAlias, o != nullptr && o->topic_alias ? o->topic_alias : p.topic_alias);
  Byte(w, P::kMaximumQos, p.maximum_qos);
  Byte(w, P::kRetainAvailable, p.retain_available);
  for (const auto& [key, value] : p.user_properties) {
    Id(w, P::kUserProperty);
    w.Str(key);
    w.Str(value);
  }
  U32(w, P::kMaximumPacketSize, p.maximum_packet_size);
  Byte(w, P::kWildcardSubscriptionAvailable, p.wildcard_subscription_available);
  Byte(w, P::kSubscriptionIdentifierAvailable, p.subscription_identifier_available);
  Byte(w, P::kSharedSubscriptionAvailable, p.shared_subscription_available);
}

}  // namespace

void EncodeProperties(const Properties& props, Writer& w) {
  Writer counter;
  WriteAll(props, nullptr, counter);
  w.VarInt(static_cast<uint32_t>(counter.size()));
  WriteAll(props, nullptr, w);
}

void EncodePublishProperties(const Properties* props, const PublishPropertyOverrides& o,
                             Writer& w) {
  static const Properties kNone;
  const Properties& p = props != nullptr ? *props : kNone;
  Writer counter;
  WriteAll(p, &o, counter);
  w.VarInt(static_cast<uint32_t>(counter.size()));
  WriteAll(p, &o, w);
}

}  // namespace meshmq::codec::internal
