// MQTT control packets for 3.1, 3.1.1 and 5.0 as plain values.
//
// One struct per packet type; `Packet` is the variant the decoder produces and the encoder takes.
// Fields that exist only in 5.0 (properties, most reason codes) are ignored when encoding for 3.x.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "codec/properties.h"
#include "codec/reason_code.h"
#include "codec/shared_bytes.h"

namespace meshmq::codec {

enum class ProtocolVersion : uint8_t {
  kV31 = 3,   // "MQIsdp"
  kV311 = 4,  // "MQTT"
  kV5 = 5,    // "MQTT"
};

enum class PacketType : uint8_t {
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
  kPingreq = 12,
  kPingresp = 13,
  kDisconnect = 14,
  kAuth = 15,
};

struct Will {
  std::string topic;
  SharedBytes payload;
  uint8_t qos = 0;
  bool retain = false;
  Properties properties;  // will properties (v5)
  bool operator==(const Will&) const = default;
};

struct Connect {
  ProtocolVersion version = ProtocolVersion::kV311;
  bool clean_start = true;  // "clean session" in 3.x
  uint16_t keep_alive = 0;  // seconds
  std::string client_id;
  std::optional<Will> will;
  std::optional<std::string> username;
  std::optional<std::string> password;  // binary data
  Properties properties;
  bool operator==(const Connect&) const = default;
};

struct Connack {
  bool session_present = false;
  // v5 reason code; for 3.x the encoder writes ToV3ConnackCode(reason_code).
  ReasonCode reason_code = ReasonCode::kSuccess;
  Properties properties;
  bool operator==(const Connack&) const = default;
};

struct Publish {
  bool dup = false;
  uint8_t qos = 0;
  bool retain = false;
  std::string topic;       // may be empty in v5 when a topic alias is used
  uint16_t packet_id = 0;  // only for qos > 0
  Properties properties;
  SharedBytes payload;
  bool operator==(const Publish&) const = default;
};

// PUBACK, PUBREC, PUBREL and PUBCOMP share one shape. In v5 the reason code and properties may be
// omitted on the wire when the code is Success and there are no properties.
template <PacketType kType>
struct PublishAck {
  static constexpr PacketType kPacketType = kType;
  uint16_t packet_id = 0;
  ReasonCode reason_code = ReasonCode::kSuccess;
  Properties properties;
  bool operator==(const PublishAck&) const = default;
};
using Puback = PublishAck<PacketType::kPuback>;
using Pubrec = PublishAck<PacketType::kPubrec>;
using Pubrel = PublishAck<PacketType::kPubrel>;
using Pubcomp = PublishAck<PacketType::kPubcomp>;

struct SubscribeRequest {
  std::string filter;
  uint8_t qos = 0;
  bool no_local = false;             // v5
  bool retain_as_published = false;  // v5
  uint8_t retain_handling = 0;       // v5: 0, 1 or 2
  bool operator==(const SubscribeRequest&) const = default;
};

struct Subscribe {
  uint16_t packet_id = 0;
  Properties properties;  // subscription identifier, user properties
  std::vector<SubscribeRequest> subscriptions;
  bool operator==(const Subscribe&) const = default;
};

struct Suback {
  uint16_t packet_id = 0;
  Properties properties;
  // v5 reason codes; for 3.x granted QoS 0/1/2 or 0x80 (failure) as the same byte values.
  std::vector<ReasonCode> reason_codes;
  bool operator==(const Suback&) const = default;
};

struct Unsubscribe {
  uint16_t packet_id = 0;
  Properties properties;
  std::vector<std::string> filters;
  bool operator==(const Unsubscribe&) const = default;
};

struct Unsuback {
  uint16_t packet_id = 0;
  Properties properties;
  std::vector<ReasonCode> reason_codes;  // v5 only; 3.x UNSUBACK has no payload
  bool operator==(const Unsuback&) const = default;
};

struct Pingreq {
  bool operator==(const Pingreq&) const = default;
};
struct Pingresp {
  bool operator==(const Pingresp&) const = default;
};

struct Disconnect {
  ReasonCode reason_code = ReasonCode::kSuccess;
  Properties properties;
  bool operator==(const Disconnect&) const = default;
};

struct Auth {
  ReasonCode reason_code = ReasonCode::kSuccess;
  Properties properties;
  bool operator==(const Auth&) const = default;
};

using Packet = std::variant<Connect, Connack, Publish, Puback, Pubrec, Pubrel, Pubcomp, Subscribe,
                            Suback, Unsubscribe, Unsuback, Pingreq, Pingresp, Disconnect, Auth>;

PacketType TypeOf(const Packet& packet);
std::string_view PacketTypeName(PacketType type);

}  // namespace meshmq::codec
