// MQTT encoder: packets to wire bytes, appended to a caller-owned buffer that can be reused.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codec/packets.h"

namespace meshmq::codec {

// Appends the encoding of `packet` for `version` to `out`.
void Encode(const Packet& packet, ProtocolVersion version, std::string& out);

// Appends a PUBLISH's fixed header, variable header and properties, but not its payload, so a
// writer can gather the shared payload bytes after it without copying them.
void EncodePublishHeader(const Publish& publish, ProtocolVersion version, std::string& out);

// An outgoing PUBLISH described by reference: the message's topic and properties stay where
// they are, and the few per-subscriber values replace theirs while encoding. A broker sends one
// of these per delivery; building a Publish instead copied the topic (an allocation per
// delivery for any topic past 15 bytes) and, in v5, the whole property set.
struct PublishHeader {
  bool dup = false;
  uint8_t qos = 0;
  bool retain = false;
  std::string_view topic;  // empty when a v5 topic alias names it
  uint16_t packet_id = 0;  // only for qos > 0
  std::size_t payload_size = 0;
  // v5 only. Null: no properties besides the replacements below.
  const Properties* properties = nullptr;
  // Replace the ones in `properties` when set (identifiers: when non-null).
  const std::vector<uint32_t>* subscription_identifiers = nullptr;
  std::optional<uint32_t> message_expiry_interval;
  std::optional<uint16_t> topic_alias;
};
void EncodePublishHeader(const PublishHeader& header, ProtocolVersion version, std::string& out);
// The same packet as a Publish value, copies included (for traces and tests).
Publish ToPublish(const PublishHeader& header, SharedBytes payload);

// Size in bytes of the whole encoded packet (for maximum-packet-size checks before sending).
std::size_t EncodedSize(const Packet& packet, ProtocolVersion version);

// Variable byte integer helpers (spec 1.5.5), shared with the cluster and bench code.
void AppendVarInt(uint32_t value, std::string& out);
std::size_t VarIntSize(uint32_t value);

}  // namespace meshmq::codec
