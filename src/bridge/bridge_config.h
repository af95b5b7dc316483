// One outgoing MQTT bridge as configured: the JSON "bridges" array of the config file (or the
// --bridges flag), parsed and checked here. Format and example in docs/extending.md.
//
// Plain values, parsed on the main thread at start-up; immutable afterwards.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace meshmq::bridge {

struct TopicMapping {
  std::string filter;  // out: local filter; in: remote filter
  std::string prefix;  // prepended to the topic on the other side
  uint8_t qos = 1;     // upper bound for messages crossing with this mapping
};

struct BridgeConfig {
  std::string name;
  std::string host;
  uint16_t port = 1883;
  bool tls = false;
  std::string ca_file, cert_file, key_file;  // ca: verify the remote; cert+key: client cert
  bool tls_insecure = false;                 // skip verification (tests only)
  std::optional<std::string> username, password;
  int version = 5;  // 4 = MQTT 3.1.1, 5 = MQTT 5
  std::string client_id;   // default "meshmq-bridge-<name>"
  uint16_t keep_alive = 60;
  bool clean_start = true;
  std::vector<TopicMapping> out;  // local -> remote
  std::vector<TopicMapping> in;   // remote -> local
  size_t queue_size = 10000;      // messages held while the remote is down
  int reconnect_min_ms = 500;
  int reconnect_max_ms = 30000;
  int max_inflight = 100;  // unacknowledged QoS 1/2 publishes to the remote
};

// An acknowledgement packet (PUBACK, PUBREC, PUBREL, PUBCOMP) for `packet_id`, reason Success.
template <typename T>
T Ack(uint16_t packet_id) {
  T ack;
  ack.packet_id = packet_id;
  return ack;
}

// Parses the JSON array; the error names the bridge (or its index) and the field.
absl::StatusOr<std::vector<BridgeConfig>> ParseBridges(std::string_view json);

// The topic on the other side for a topic `topic` that matched `m.filter`; nullopt when it
// does not match. Mapping: prefix + topic.
std::optional<std::string> MapTopic(const std::vector<TopicMapping>& mappings,
                                    std::string_view topic, uint8_t* qos);

}  // namespace meshmq::bridge
