// Packet type lookup and names.
#include "codec/packets.h"

namespace meshmq::codec {
namespace {

template <typename T>
constexpr PacketType TypeOfStruct() {
  if constexpr (std::is_same_v<T, Connect>) return PacketType::kConnect;
  else if constexpr (std::is_same_v<T, Connack>) return PacketType::kConnack;
  else if constexpr (std::is_same_v<T, Publish>) return PacketType::kPublish;
  else if constexpr (std::is_same_v<T, Subscribe>) return PacketType::kSubscribe;
  else if constexpr (std::is_same_v<T, Suback>) return PacketType::kSuback;
  else if constexpr (std::is_same_v<T, Unsubscribe>) return PacketType::kUnsubscribe;
  else if constexpr (std::is_same_v<T, Unsuback>) return PacketType::kUnsuback;
  else if constexpr (std::is_same_v<T, Pingreq>) return PacketType::kPingreq;
  else if constexpr (std::is_same_v<T, Pingresp>) return PacketType::kPingresp;
  else if constexpr (std::is_same_v<T, Disconnect>) return PacketType::kDisconnect;
  else if constexpr (std::is_same_v<T, Auth>) return PacketType::kAuth;
  else return T::kPacketType;  // the four PublishAck instantiations
}

}  // namespace

PacketType TypeOf(const Packet& packet) {
  return std::visit([](const auto& p) { return TypeOfStruct<std::decay_t<decltype(p)>>(); },
                    packet);
}

std::string_view PacketTypeName(PacketType type) {
  switch (type) {
    case PacketType::kConnect: return "CONNECT";
    case PacketType::kConnack: return "CONNACK";
    case PacketType::kPublish: return "PUBLISH";
    case PacketType::kPuback: return "PUBACK";
    case PacketType::kPubrec: return "PUBREC";
    case PacketType::kPubrel: return "PUBREL";
    case PacketType::kPubcomp: return "PUBCOMP";
    case PacketType::kSubscribe: return "SUBSCRIBE";
    case PacketType::kSuback: return "SUBACK";
    case PacketType::kUnsubscribe: return "UNSUBSCRIBE";
    case PacketType::kUnsuback: return "UNSUBACK";
    case PacketType::kPingreq: return "PINGREQ";
    case PacketType::kPingresp: return "PINGRESP";
    case PacketType::kDisconnect: return "DISCONNECT";
    case PacketType::kAuth: return "AUTH";
  }
  return "UNKNOWN";
}

}  // namespace meshmq::codec
