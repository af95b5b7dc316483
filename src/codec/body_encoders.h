// Per-packet body writers (private to the codec). Each writes the variable header and payload of
// one packet type; encoder.cc adds the fixed header. Called twice per packet, first with a
// counting Writer to learn the remaining length.
#pragma once

#include <cstdint>

#include "codec/encoder.h"
#include "codec/packets.h"
#include "codec/writer.h"

namespace meshmq::codec::internal {

void WriteBody(const Connect& p, ProtocolVersion v, Writer& w);
void WriteBody(const Connack& p, ProtocolVersion v, Writer& w);
void WriteBody(const Publish& p, ProtocolVersion v, Writer& w);
void WriteBody(const Puback& p, ProtocolVersion v, Writer& w);
void WriteBody(const Pubrec& p, ProtocolVersion v, Writer& w);
void WriteBody(const Pubrel& p, ProtocolVersion v, Writer& w);
void WriteBody(const Pubcomp& p, ProtocolVersion v, Writer& w);
void WriteBody(const Subscribe& p, ProtocolVersion v, Writer& w);
void WriteBody(const Suback& p, ProtocolVersion v, Writer& w);
void WriteBody(const Unsubscribe& p, ProtocolVersion v, Writer& w);
void WriteBody(const Unsuback& p, ProtocolVersion v, Writer& w);
void WriteBody(const Pingreq& p, ProtocolVersion v, Writer& w);
void WriteBody(const Pingresp& p, ProtocolVersion v, Writer& w);
void WriteBody(const Disconnect& p, ProtocolVersion v, Writer& w);
void WriteBody(const Auth& p, ProtocolVersion v, Writer& w);

// PUBLISH variable header and properties, without the payload.
void WritePublishVariableHeader(const PublishHeader& h, ProtocolVersion v, Writer& w);
// The view of a whole Publish (its own properties, nothing replaced).
PublishHeader HeaderOf(const Publish& p);

// Low nibble of the first fixed-header byte.
uint8_t FixedHeaderFlags(const Packet& packet);
uint8_t PublishFlags(bool dup, uint8_t qos, bool retain);
inline uint8_t PublishFlags(const Publish& p) { return PublishFlags(p.dup, p.qos, p.retain); }

}  // namespace meshmq::codec::internal
