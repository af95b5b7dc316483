// Key layout of the store (docs/storage.md). One key per record, so a change writes only what
// changed (a queued message is one Put, its PUBACK one Delete), never a whole session again.
//
//   R<topic>                         retained message
//   S<client id>                     session: protocol version, expiry, when it went offline
//   U<client id>\0<filter>           one subscription and its options
//   M<seq, 8 bytes BE>               one queued or in-flight QoS 1/2 message (client id in the value)
//   Q<client id>\0<id, 2 bytes BE>   a QoS 2 packet id received and not yet released
//
// MQTT strings never contain U+0000 [MQTT-1.5.4-2], so \0 ends a client id unambiguously, and a
// session's keys of one kind are the range [X<id>\0, X<id>\1). Message keys are a node-wide
// sequence instead: short, nearly ascending (cheap for RocksDB to compare and sort), and a scan
// still returns each session's messages in delivery order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace meshmq::storage::keys {

inline constexpr char kRetained = 'R', kSession = 'S', kSubscription = 'U', kMessage = 'M',
                      kIncomingQos2 = 'Q';

std::string Retained(std::string_view topic);
std::string Session(std::string_view client_id);
std::string Subscription(std::string_view client_id, std::string_view filter);
std::string Message(uint64_t seq);
std::string IncomingQos2(std::string_view client_id, uint16_t packet_id);
// [begin, end) of every key of `kind` under one client id.
std::string RangeBegin(char kind, std::string_view client_id);
std::string RangeEnd(char kind, std::string_view client_id);

// A key of one of the per-session kinds split into client id and the rest (after the \0).
struct SessionKey {
  std::string_view client_id;
  std::string_view rest;
};
std::optional<SessionKey> Split(std::string_view key);
uint64_t DecodeBigEndian(std::string_view bytes);

}  // namespace meshmq::storage::keys
