#include "http/api_json.h"

#include "codec/topic_rules.h"
#include "http/url.h"

namespace meshmq::http {

using nlohmann::json;

json ToJson(const NodeInfo& node) {
  return json{{"node_id", node.node_id},
              {"address", node.address},
              {"state", node.state},
              {"self", node.self},
              {"routes", node.routes}};
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
