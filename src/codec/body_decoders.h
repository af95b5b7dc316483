// Per-packet body decoders (private to the codec). Each reads the variable header and payload of
// one packet type from a Reader spanning exactly that packet's body; the fixed header has
// already been checked (type, reserved flags, role, size).
#pragma once

#include <cstdint>
#include <optional>

#include "codec/packets.h"
#include "codec/reader.h"

namespace meshmq::codec::internal {

struct BodyContext {
  ProtocolVersion version;
  DecodeRole role;
  uint8_t flags;  // low nibble of the first fixed-header byte
  // Set by DecodeConnect as soon as the protocol name and level are read, even if the CONNECT
  // is rejected later, so the caller can answer CONNACK in that version's format.
  std::optional<ProtocolVersion> connect_version;
};

bool DecodeConnect(Reader& r, BodyContext& ctx, Packet& out);
bool DecodeConnack(Reader& r, BodyContext& ctx, Packet& out);
bool DecodePublish(Reader& r, BodyContext& ctx, Packet& out);
bool DecodePuback(Reader& r, BodyContext& ctx, Packet& out);
bool DecodePubrec(Reader& r, BodyContext& ctx, Packet& out);
bool DecodePubrel(Reader& r, BodyContext& ctx, Packet& out);
bool DecodePubcomp(Reader& r, BodyContext& ctx, Packet& out);
bool DecodeSubscribe(Reader& r, BodyContext& ctx, Packet& out);
bool DecodeSuback(Reader& r, BodyContext& ctx, Packet& out);
bool DecodeUnsubscribe(Reader& r, BodyContext& ctx, Packet& out);
bool DecodeUnsuback(Reader& r, BodyContext& ctx, Packet& out);
bool DecodePingreq(Reader& r, BodyContext& ctx, Packet& out);
bool DecodePingresp(Reader& r, BodyContext& ctx, Packet& out);
bool DecodeDisconnect(Reader& r, BodyContext& ctx, Packet& out);
bool DecodeAuth(Reader& r, BodyContext& ctx, Packet& out);

// Reads a packet identifier; 0 is a Malformed Packet in every version [MQTT-2.2.1-3]. (v5 would
// allow Protocol Error; one answer for all versions keeps the broker's handling uniform.)
bool ReadPacketId(Reader& r, uint16_t& id);

// Reads a v5 reason code and checks that it is defined for `type` (spec table 2.4); an
// undefined code is a Protocol Error.
bool ReadReasonCode(Reader& r, PacketType type, ReasonCode& code);

// True when `code` is defined for packets of `type` in v5 (spec 2.4).
bool IsReasonCodeAllowed(PacketType type, uint8_t code);

}  // namespace meshmq::codec::internal
