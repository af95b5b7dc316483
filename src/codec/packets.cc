// Packet type lookup and names.
#include "codec/packets.h"

namespace meshmq::codec {
namespace {

// The Packet alternatives are declared in packet-type order, so the type is index + 1.
template <typename T, PacketType kType>
constexpr bool kAt =
    std::is_same_v<std::variant_alternative_t<static_cast<std::size_t>(kType) - 1, Packet>, T>;
static_assert(kAt<Connect, PacketType::kConnect> && kAt<Publish, PacketType::kPublish> &&
              kAt<Pubcomp, PacketType::kPubcomp> && kAt<Subscribe, PacketType::kSubscribe> &&
              kAt<Unsuback, PacketType::kUnsuback> && kAt<Auth, PacketType::kAuth>);
static_assert(std::variant_size_v<Packet> == 15);

}  // namespace

PacketType TypeOf(const Packet& packet) { return static_cast<PacketType>(packet.index() + 1); }

std::string_view PacketTypeName(PacketType type) {
  switch (type) {
    case PacketType::kConnect:
      return "CONNECT";
    case PacketType::kConnack:
      return "CONNACK";
    case PacketType::kPublish:
      return "PUBLISH";
    case PacketType::kPuback:
      return "PUBACK";
    case PacketType::kPubrec:
      return "PUBREC";
    case PacketType::kPubrel:
      return "PUBREL";
    case PacketType::kPubcomp:
      return "PUBCOMP";
    case PacketType::kSubscribe:
      return "SUBSCRIBE";
    case PacketType::kSuback:
      return "SUBACK";
    case PacketType::kUnsubscribe:
      return "UNSUBSCRIBE";
    case PacketType::kUnsuback:
      return "UNSUBACK";
    case PacketType::kPingreq:
      return "PINGREQ";
    case PacketType::kPingresp:
      return "PINGRESP";
    case PacketType::kDisconnect:
      return "DISCONNECT";
    case PacketType::kAuth:
      return "AUTH";
  }
  return "UNKNOWN";
}

}  // namespace meshmq::codec
