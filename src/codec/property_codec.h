// MQTT 5.0 property block (spec 2.2.2) reading and writing (private to the codec).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "codec/packets.h"
#include "codec/reader.h"
#include "codec/writer.h"

namespace meshmq::codec::internal {

// Where a property block sits: a packet type, or the Will properties inside CONNECT.
enum class PropertyContext : uint8_t {
  kWill = 0,
  kConnect = 1,
  kConnack = 2,
  kPublish = 3,
  kPuback = 4,
  kPubrec = 5,
  kPubrel = 6,
  kPubcomp = 7,
  kSubscribe = 8,
  kSuback = 9,
  kUnsubscribe = 10,
  kUnsuback = 11,
  kDisconnect = 14,
  kAuth = 15,
};

inline PropertyContext ContextOf(PacketType type) {
  return static_cast<PropertyContext>(static_cast<uint8_t>(type));
}

// Reads the property length and the properties into `props`. A property not allowed in
// `context` (spec table 2.2.2.2) or repeated when single-valued is a Protocol Error; a bad
// encoding or unknown identifier is a Malformed Packet.
bool DecodeProperties(Reader& r, PropertyContext context, Properties& props);

// Writes the property length and the properties, ordered by identifier.
void EncodeProperties(const Properties& props, Writer& w);

// A PUBLISH's property block: `props` (may be null) with the per-subscriber values that
// replace its own when given (see codec::PublishHeader).
struct PublishPropertyOverrides {
  const std::vector<uint32_t>* subscription_identifiers = nullptr;
  std::optional<uint32_t> message_expiry_interval;
  std::optional<uint16_t> topic_alias;
};
void EncodePublishProperties(const Properties* props, const PublishPropertyOverrides& o,
                             Writer& w);

inline bool IsEmpty(const Properties& props) { return props == Properties{}; }

}  // namespace meshmq::codec::internal
