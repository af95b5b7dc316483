// PINGREQ, PINGRESP, DISCONNECT and AUTH (spec 3.12 - 3.15).
#include "codec/body_decoders.h"
#include "codec/property_codec.h"

namespace meshmq::codec::internal {
namespace {

// DISCONNECT and AUTH in v5: remaining length 0 means Success with no properties; a lone reason
// code (remaining length 1) means no properties.
template <typename T>
bool DecodeReasonAndProperties(Reader& r, PacketType type, T& packet) {
  if (r.AtEnd()) return true;
  if (!ReadReasonCode(r, type, packet.reason_code)) return false;
  if (!r.AtEnd() && !DecodeProperties(r, ContextOf(type), packet.properties)) return false;
  return r.ExpectEnd(PacketTypeName(type));
}

}  // namespace

bool DecodePingreq(Reader& r, BodyContext& ctx, Packet& out) {
  out.emplace<Pingreq>();
  return r.ExpectEnd("PINGREQ");
}

bool DecodePingresp(Reader& r, BodyContext& ctx, Packet& out) {
  out.emplace<Pingresp>();
  return r.ExpectEnd("PINGRESP");
}

bool DecodeDisconnect(Reader& r, BodyContext& ctx, Packet& out) {
  Disconnect& d = out.emplace<Disconnect>();
  if (ctx.version != ProtocolVersion::kV5) return r.ExpectEnd("DISCONNECT");
  return DecodeReasonAndProperties(r, PacketType::kDisconnect, d);
}

bool DecodeAuth(Reader& r, BodyContext& ctx, Packet& out) {
  // The framing layer rejects AUTH before v5, so only the v5 layout exists here.
  return DecodeReasonAndProperties(r, PacketType::kAuth, out.emplace<Auth>());
}

}  // namespace meshmq::codec::internal
