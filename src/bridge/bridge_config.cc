#include "bridge/bridge_config.h"

#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "codec/topic_rules.h"

namespace meshmq::bridge {
namespace {

using Json = nlohmann::json;

absl::Status Bad(const std::string& where, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("bridges: ", where, ": ", std::string(what)));
}

template <typename T>
absl::Status Get(const Json& j, const char* key, const std::string& where, T& out) {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  try {
    out = it->get<T>();
  } catch (const Json::exception&) {
    return Bad(where, absl::StrCat("\"", key, "\" has the wrong type"));
  }
  return absl::OkStatus();
}

absl::Status ParseMappings(const Json& j, const char* key, const std::string& where,
                           std::vector<TopicMapping>& out) {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  if (!it->is_array()) return Bad(where, absl::StrCat("\"", key, "\" must be an array"));
  for (const Json& m : *it) {
    const std::string at = absl::StrCat(where, ": ", key, "[", out.size(), "]");
    if (!m.is_object()) return Bad(at, "expected an object {filter, prefix, qos}");
    TopicMapping mapping;
    int qos = 1;
    for (absl::Status s : {Get(m, "filter", at, mapping.filter), Get(m, "prefix", at, mapping.prefix),
                           Get(m, "qos", at, qos)}) {
      if (!s.ok()) return s;
    }
    if (!codec::IsValidTopicFilter(mapping.filter)) return Bad(at, "invalid topic filter");
    if (qos < 0 || qos > 2) return Bad(at, "qos must be 0, 1 or 2");
    if (mapping.prefix.find_first_of("+#") != std::string::npos) {
      return Bad(at, "prefix must not contain wildcards");
    }
    mapping.qos = static_cast<uint8_t>(qos);
    out.push_back(std::move(mapping));
  }
  return absl::OkStatus();
}

absl::StatusOr<BridgeConfig> ParseOne(const Json& j, size_t index) {
  std::string where = absl::StrCat("[", index, "]");
  if (!j.is_object()) return Bad(where, "expected an object");
  BridgeConfig b;
  if (absl::Status s = Get(j, "name", where, b.name); !s.ok()) return s;
  if (b.name.empty()) return Bad(where, "\"name\" is required");
  where = absl::StrCat("bridge \"", b.name, "\"");
  std::string address, version = "5";
  int keep_alive = b.keep_alive;
  std::optional<std::string> username, password;
  Json tls = Json::object();
  absl::Status statuses[] = {
      Get(j, "address", where, address),       Get(j, "version", where, version),
      Get(j, "client_id", where, b.client_id), Get(j, "keep_alive", where, keep_alive),
      Get(j, "clean_start", where, b.clean_start), Get(j, "queue_size", where, b.queue_size),
      Get(j, "reconnect_min_ms", where, b.reconnect_min_ms),
      Get(j, "reconnect_max_ms", where, b.reconnect_max_ms),
      Get(j, "max_inflight", where, b.max_inflight), Get(j, "tls", where, tls)};
  for (const absl::Status& s : statuses) {
    if (!s.ok()) return s;
  }
  if (auto u = j.find("username"); u != j.end() && u->is_string()) b.username = u->get<std::string>();
  if (auto p = j.find("password"); p != j.end() && p->is_string()) b.password = p->get<std::string>();
  const size_t colon = address.rfind(':');
  if (address.empty() || colon == std::string::npos || colon == 0) {
    return Bad(where, "\"address\" must be host:port");
  }
  b.host = address.substr(0, colon);
  if (b.host.size() > 2 && b.host.front() == '[' && b.host.back() == ']') {
    b.host = b.host.substr(1, b.host.size() - 2);
  }
  int port = 0;
  try {
    port = std::stoi(address.substr(colon + 1));
  } catch (const std::exception&) {
  }
  if (port <= 0 || port > 65535) return Bad(where, "\"address\" has an invalid port");
  b.port = static_cast<uint16_t>(port);
  if (version == "5" || version == "5.0") {
    b.version = 5;
  } else if (version == "3.1.1" || version == "4") {
    b.version = 4;
  } else {
    return Bad(where, "\"version\" must be \"3.1.1\" or \"5\"");
  }
  if (keep_alive < 0 || keep_alive > 65535) return Bad(where, "\"keep_alive\" out of range");
  b.keep_alive = static_cast<uint16_t>(keep_alive);
  if (b.client_id.empty()) b.client_id = "meshmq-bridge-" + b.name;
  if (b.queue_size == 0) return Bad(where, "\"queue_size\" must be at least 1");
  if (b.reconnect_min_ms < 1 || b.reconnect_max_ms < b.reconnect_min_ms) {
    return Bad(where, "need 1 <= reconnect_min_ms <= reconnect_max_ms");
  }
  if (b.max_inflight < 1 || b.max_inflight > 65535) return Bad(where, "\"max_inflight\" out of range");
  if (!tls.is_object()) return Bad(where, "\"tls\" must be an object");
  if (!tls.empty()) {
    b.tls = true;
    const std::string at = where + ": tls";
    for (absl::Status s : {Get(tls, "ca", at, b.ca_file), Get(tls, "cert", at, b.cert_file),
                           Get(tls, "key", at, b.key_file), Get(tls, "insecure", at, b.tls_insecure)}) {
      if (!s.ok()) return s;
    }
    if (b.cert_file.empty() != b.key_file.empty()) return Bad(at, "cert and key go together");
  }
  if (absl::Status s = ParseMappings(j, "out", where, b.out); !s.ok()) return s;
  if (absl::Status s = ParseMappings(j, "in", where, b.in); !s.ok()) return s;
  if (b.out.empty() && b.in.empty()) return Bad(where, "needs at least one \"out\" or \"in\" mapping");
  return b;
}

}  // namespace

absl::StatusOr<std::vector<BridgeConfig>> ParseBridges(std::string_view text) {
  std::vector<BridgeConfig> out;
  if (text.empty()) return out;
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return absl::InvalidArgumentError("bridges: expected a JSON array");
  std::set<std::string> names, ids;
  for (size_t i = 0; i < j.size(); ++i) {
    absl::StatusOr<BridgeConfig> b = ParseOne(j[i], i);
    if (!b.ok()) return b.status();
    if (!names.insert(b->name).second) return Bad("bridge \"" + b->name + "\"", "duplicate name");
    if (!ids.insert(b->client_id).second) {
      return Bad("bridge \"" + b->name + "\"", "client_id used by another bridge");
    }
    out.push_back(*std::move(b));
  }
  return out;
}

std::optional<std::string> MapTopic(const std::vector<TopicMapping>& mappings,
                                    std::string_view topic, uint8_t* qos) {
  for (const TopicMapping& m : mappings) {
    if (!codec::TopicMatches(m.filter, topic)) continue;
    if (qos != nullptr) *qos = m.qos;
    return m.prefix + std::string(topic);
  }
  return std::nullopt;
}

}  // namespace meshmq::bridge
