#include "http/api_json.h"

#include "codec/topic_rules.h"
#include "http/url.h"

namespace meshmq::http {

using nlohmann::json;

json ToJson(const NodeInfo& node) {
  json out{{"node_id", node.node_id},
           {"address", node.address},
           {"state", node.state},
           {"self", node.self},
           {"routes", node.routes},
           {"http_address", node.http_address}};
  if (!node.listeners.empty()) out["listeners"] = node.listeners;
  return out;
}

json ToJson(const MetricsSnapshot& m) {
  const broker::StatsSnapshot& b = m.broker;
  auto sum = [](const uint64_t (&by_qos)[3]) { return by_qos[0] + by_qos[1] + by_qos[2]; };
  uint64_t dropped = 0;
  for (uint64_t d : b.dropped) dropped += d;
  json peers = json::array();
  if (m.cluster) {
    for (const PeerMetrics& p : m.cluster->peers) {
      peers.push_back(json{{"node_id", p.node_id},
                           {"state", p.state},
                           {"forwarded_to", p.forwarded_to},
                           {"received_from", p.received_from},
                           {"queue_depth", p.queue_depth}});
    }
  }
  return json{{"node_id", m.node_id},
              {"version", m.version},
              {"uptime_seconds", m.uptime_seconds},
              {"connections", b.connections_current},
              {"connections_total", b.connections_total},
              {"sessions", b.sessions},
              {"sessions_offline", b.sessions_offline},
              {"subscriptions", b.subscriptions},
              {"shared_subscriptions", b.shared_subscriptions},
              {"retained", b.retained},
              {"routes", b.routes},
              {"remote_routes", m.remote_routes},
              {"inflight", b.inflight},
              {"messages_received", sum(b.messages_received)},
              {"messages_sent", sum(b.messages_sent)},
              {"bytes_received", b.bytes_received},
              {"bytes_sent", b.bytes_sent},
              {"messages_dropped", dropped},
              {"resident_memory_bytes", m.process.resident_memory_bytes},
              {"cpu_seconds", m.process.cpu_seconds},
              {"peers", std::move(peers)}};
}

json ToJson(const ClientInfo& c) {
  return json{{"client_id", c.client_id},
              {"node", c.node},
              {"protocol_version", c.protocol_version},
              {"address", c.address},
              {"keep_alive", c.keep_alive},
              {"connected", c.connected},
              {"subscriptions", c.subscriptions},
              {"queue_depth", c.queue_depth},
              {"inflight", c.inflight},
              {"session_expiry_interval", c.session_expiry_s}};
}

json ToJson(const ClientDetail& c) {
  json out = ToJson(c.info);
  json subs = json::array();
  for (const auto& s : c.subscriptions) subs.push_back(ToJson(s));
  out["subscriptions"] = std::move(subs);
  out["subscription_count"] = c.info.subscriptions;
  return out;
}

json ToJson(const SubscriptionInfo& s) {
  return json{{"filter", s.filter},
              {"client_id", s.client_id},
              {"qos", s.qos},
              {"no_local", s.no_local},
              {"retain_as_published", s.retain_as_published},
              {"retain_handling", s.retain_handling},
              {"subscription_id", s.subscription_id}};
}

json ToJson(const RoutesInfo& r) {
  json remote = json::object();
  for (const auto& [filter, nodes] : r.remote) remote[filter] = nodes;
  return json{{"local", r.local}, {"remote", std::move(remote)}};
}

json ToJson(const RetainedInfo& r) {
  bool text = codec::IsValidUtf8(r.payload);
  json out{{"topic", r.topic},
           {"payload", text ? r.payload : Base64Encode(r.payload)},
           {"payload_encoding", text ? "utf8" : "base64"},
           {"payload_size", r.payload.size()},
           {"qos", r.qos},
           {"timestamp_ms", r.timestamp_ms},
           {"origin_node", r.origin_node}};
  if (r.expiry_at_ms) out["expiry_at_ms"] = *r.expiry_at_ms;
  return out;
}

std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace meshmq::http
