// Which v5 reason codes each packet may carry (spec 2.4, and each packet's reason code table).
#include "codec/body_decoders.h"

namespace meshmq::codec::internal {
namespace {

template <std::size_t N>
bool OneOf(uint8_t code, const uint8_t (&allowed)[N]) {
  for (uint8_t a : allowed) {
    if (a == code) return true;
  }
  return false;
}

constexpr uint8_t kConnackCodes[] = {0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86,
                                     0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97,
                                     0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F};
constexpr uint8_t kPubackCodes[] = {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99};
constexpr uint8_t kPubrelCodes[] = {0x00, 0x92};
constexpr uint8_t kSubackCodes[] = {0x00, 0x01, 0x02, 0x80, 0x83, 0x87,
                                    0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2};
constexpr uint8_t kUnsubackCodes[] = {0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91};
constexpr uint8_t kDisconnectCodes[] = {0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D,
                                        0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
                                        0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2};
constexpr uint8_t kAuthCodes[] = {0x00, 0x18, 0x19};

}  // namespace

bool IsReasonCodeAllowed(PacketType type, uint8_t code) {
  switch (type) {
    case PacketType::kConnack:
      return OneOf(code, kConnackCodes);
    case PacketType::kPuback:
    case PacketType::kPubrec:
      return OneOf(code, kPubackCodes);
    case PacketType::kPubrel:
    case PacketType::kPubcomp:
      return OneOf(code, kPubrelCodes);
    case PacketType::kSuback:
      return OneOf(code, kSubackCodes);
    case PacketType::kUnsuback:
      return OneOf(code, kUnsubackCodes);
    case PacketType::kDisconnect:
      return OneOf(code, kDisconnectCodes);
    case PacketType::kAuth:
      return OneOf(code, kAuthCodes);
    default:
      return false;
  }
}

bool ReadReasonCode(Reader& r, PacketType type, ReasonCode& code) {
  uint8_t byte;
  if (!r.U8(byte)) return false;
  if (!IsReasonCodeAllowed(type, byte)) {
    std::string detail(PacketTypeName(type));
    detail += ": reason code not allowed";
    return r.ProtocolError(detail);
  }
  code = static_cast<ReasonCode>(byte);
  return true;
}

bool ReadPacketId(Reader& r, uint16_t& id) {
  if (!r.U16(id)) return false;
  // A zero id breaks [MQTT-2.2.1-3]: a Protocol Error (as Mosquitto answers it), not bad framing.
  if (id == 0) return r.ProtocolError("packet identifier 0");
  return true;
}

}  // namespace meshmq::codec::internal
