#include "app/extensions.h"

#include "http/prometheus_writer.h"

namespace meshmq::app {

auth::HttpAuthOptions HttpAuthOptionsFrom(const config::Config& c) {
  auth::HttpAuthOptions o;
  o.auth_url = c.auth_http_url;
  o.acl_url = c.acl_http_url;
  o.timeout_ms = static_cast<int>(c.auth_http_timeout_ms);
  o.cache_ttl_ms = static_cast<int>(c.auth_http_cache_ttl_ms);
  o.allow_on_failure = c.auth_http_failure_policy == "allow";
  o.max_concurrency = static_cast<int>(c.auth_http_max_concurrency);
  return o;
}

namespace {

double D(uint64_t v) { return static_cast<double>(v); }

void RenderHttpAuth(const auth::HttpAuthStats& s, http::PrometheusWriter& w) {
  w.Counter("meshmq_auth_http_requests_total", "Requests sent to the HTTP auth/ACL service.",
            D(s.requests.load()));
  w.Counter("meshmq_auth_http_errors_total",
            "HTTP auth/ACL requests that failed (connection, non-2xx, bad JSON).",
            D(s.errors.load()));
  w.Counter("meshmq_auth_http_timeouts_total", "HTTP auth/ACL requests that timed out.",
            D(s.timeouts.load()));
  w.Counter("meshmq_auth_http_cache_hits_total", "HTTP auth/ACL decisions served from the cache.",
            D(s.cache_hits.load()));
  w.Counter("meshmq_auth_http_rejected_total",
            "HTTP auth/ACL requests refused because too many were waiting.", D(s.rejected.load()));
}

void RenderBridges(const bridge::BridgeManager& m, http::PrometheusWriter& w) {
  const auto entries = m.Snapshot();
  auto gauge = [&](const char* name, const char* help, auto field) {
    w.Family(name, "gauge", help);
    for (const auto& e : entries) {
      w.Sample(name, {{"bridge", e.name}}, static_cast<double>((e.stats.get()->*field).load()));
    }
  };
  auto counter = [&](const char* name, const char* help, auto field) {
    w.Family(name, "counter", help);
    for (const auto& e : entries) w.Sample(name, {{"bridge", e.name}}, D((e.stats.get()->*field).load()));
  };
  gauge("meshmq_bridge_connected", "1 while the bridge's remote connection is up.",
        &bridge::BridgeStats::connected);
  gauge("meshmq_bridge_active", "1 while this node runs the bridge (one node per cluster).",
        &bridge::BridgeStats::active);
  gauge("meshmq_bridge_queued_messages", "Messages waiting for the remote.",
        &bridge::BridgeStats::queued);
  w.Family("meshmq_bridge_messages_total", "counter",
           "Messages carried by the bridge: in = remote to local, out = local to remote.");
  for (const auto& e : entries) {
    w.Sample("meshmq_bridge_messages_total", {{"bridge", e.name}, {"direction", "in"}},
             D(e.stats->messages_in.load()));
    w.Sample("meshmq_bridge_messages_total", {{"bridge", e.name}, {"direction", "out"}},
             D(e.stats->messages_out.load()));
  }
  counter("meshmq_bridge_dropped_total",
          "Messages dropped: queue full while the remote was down, or refused by the remote.",
          &bridge::BridgeStats::dropped);
  counter("meshmq_bridge_reconnects_total", "Reconnection attempts to the remote.",
          &bridge::BridgeStats::reconnects);
}

}  // namespace

std::string ExtensionMetrics(const auth::AuthService* auth, const bridge::BridgeManager* bridges) {
  http::PrometheusWriter w;
  if (auth != nullptr && auth->http() != nullptr) RenderHttpAuth(auth->http()->stats(), w);
  if (bridges != nullptr) RenderBridges(*bridges, w);
  return w.Take();
}

}  // namespace meshmq::app
