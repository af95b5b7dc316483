// Fixed header (spec 2.1) and dispatch of a whole packet to its body decoder.
#include "codec/frame.h"

#include "codec/body_decoders.h"

namespace meshmq::codec::internal {
namespace {

using BodyDecoder = bool (*)(Reader&, BodyContext&, Packet&);

// Indexed by packet type; 0 is reserved.
constexpr BodyDecoder kBodyDecoders[16] = {
    nullptr,         DecodeConnect,  DecodeConnack,     DecodePublish,
    DecodePuback,    DecodePubrec,   DecodePubrel,      DecodePubcomp,
    DecodeSubscribe, DecodeSuback,   DecodeUnsubscribe, DecodeUnsuback,
    DecodePingreq,   DecodePingresp, DecodeDisconnect,  DecodeAuth,
};

bool Fail(DecodeError& error, ReasonCode reason, std::string_view detail) {
  error.reason = reason;
  error.detail = std::string(detail);
  return false;
}

// Packets only a server sends, and packets only a client sends (spec 2.1.2 direction column).
bool SentOnlyByServer(PacketType t) {
  return t == PacketType::kConnack || t == PacketType::kSuback || t == PacketType::kUnsuback ||
         t == PacketType::kPingresp;
}
bool SentOnlyByClient(PacketType t) {
  return t == PacketType::kConnect || t == PacketType::kSubscribe ||
         t == PacketType::kUnsubscribe || t == PacketType::kPingreq;
}

}  // namespace

FrameStatus ParseFixedHeader(std::string_view bytes, FixedHeader& header, DecodeError& error) {
  if (bytes.size() < 2) return FrameStatus::kNeedMore;
  auto first = static_cast<uint8_t>(bytes[0]);
  header.type = first >> 4;
  header.flags = first & 0x0F;
  uint32_t value = 0;
  for (std::size_t i = 1; i <= 4; ++i) {
    if (i >= bytes.size()) return FrameStatus::kNeedMore;
    auto b = static_cast<uint8_t>(bytes[i]);
    value |= static_cast<uint32_t>(b & 0x7F) << (7 * (i - 1));
    if ((b & 0x80) == 0) {
      header.remaining_length = value;
      header.header_size = i + 1;
      return FrameStatus::kOk;
    }
  }
  Fail(error, ReasonCode::kMalformedPacket, "remaining length longer than 4 bytes");
  return FrameStatus::kError;
}

bool CheckFixedHeader(const FixedHeader& header, ProtocolVersion version, DecodeRole role,
                      DecodeError& error) {
  // Type 0 is Forbidden: a Protocol Error (as Mosquitto answers it).
  if (header.type == 0) return Fail(error, ReasonCode::kProtocolError, "reserved packet type 0");
  auto type = static_cast<PacketType>(header.type);
  // PUBLISH flags are dup/qos/retain, checked with the body. PUBREL, SUBSCRIBE and UNSUBSCRIBE
  // must carry 0b0010, every other packet 0 [MQTT-2.1.3-1].
  if (type != PacketType::kPublish) {
    bool needs_two = type == PacketType::kPubrel || type == PacketType::kSubscribe ||
                     type == PacketType::kUnsubscribe;
    if (header.flags != (needs_two ? 0x2 : 0x0)) {
      return Fail(error, ReasonCode::kMalformedPacket, "reserved fixed header flags");
    }
  }
  if (type == PacketType::kAuth && version != ProtocolVersion::kV5) {
    return Fail(error, ReasonCode::kProtocolError, "AUTH before MQTT 5.0");
  }
  if (role == DecodeRole::kServer ? SentOnlyByServer(type) : SentOnlyByClient(type)) {
    std::string detail(PacketTypeName(type));
    detail += role == DecodeRole::kServer ? " sent to a server" : " sent to a client";
    return Fail(error, ReasonCode::kProtocolError, detail);
  }
  return true;
}

DecodeResult DecodeBlock(const std::shared_ptr<const std::string>& block, const FixedHeader& header,
                         ProtocolVersion version, DecodeRole role,
                         std::optional<ProtocolVersion>& connect_version) {
  ErrorSink sink;
  Reader reader(block, header.header_size, header.total_size(), &sink);
  BodyContext ctx{version, role, header.flags, std::nullopt};
  DecodeResult result;
  bool ok = kBodyDecoders[header.type](reader, ctx, result.packet);
  connect_version = ctx.connect_version;
  if (ok) {
    result.status = DecodeStatus::kPacket;
  } else {
    result.status = DecodeStatus::kError;
    result.error = std::move(sink.error);
    result.packet = Packet{};
  }
  return result;
}

}  // namespace meshmq::codec::internal
