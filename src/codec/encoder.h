// MQTT encoder: packets to wire bytes, appended to a caller-owned buffer that can be reused.
#pragma once

#include <cstdint>
#include <string>

#include "codec/packets.h"

namespace meshmq::codec {

// Appends the encoding of `packet` for `version` to `out`.
void Encode(const Packet& packet, ProtocolVersion version, std::string& out);

// Appends a PUBLISH's fixed header, variable header and properties, but not its payload, so a
// writer can gather the shared payload bytes after it without copying them.
void EncodePublishHeader(const Publish& publish, ProtocolVersion version, std::string& out);

// Size in bytes of the whole encoded packet (for maximum-packet-size checks before sending).
std::size_t EncodedSize(const Packet& packet, ProtocolVersion version);

// Variable byte integer helpers (spec 1.5.5), shared with the cluster and bench code.
void AppendVarInt(uint32_t value, std::string& out);
std::size_t VarIntSize(uint32_t value);

}  // namespace meshmq::codec
