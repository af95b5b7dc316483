// /metrics: the snapshot rendered family by family. Names follow the Prometheus conventions:
// meshmq_ prefix, base units (seconds, bytes), counters end in _total. docs/metrics.md lists them.
#include <string>

#include "http/metrics_snapshot.h"
#include "http/prometheus_writer.h"

namespace meshmq::http {
namespace {

constexpr const char* kDropReasons[] = {"queue_full",     "expired",       "no_subscribers",
                                        "too_large",      "not_authorized", "slow_consumer",
                                        "memory",         "hook"};
static_assert(std::size(kDropReasons) == static_cast<size_t>(broker::DropReason::kCount));

double D(uint64_t v) { return static_cast<double>(v); }
double D(int64_t v) { return static_cast<double>(v); }

// Overload protection (docs/security.md): one family per kind of action, labelled by reason.
void RenderOverload(const broker::StatsSnapshot& b, PrometheusWriter& w) {
  using E = broker::OverloadEvent;
  auto n = [&](E e) { return D(b.overload[static_cast<int>(e)]); };
  w.Family("meshmq_connections_refused_total", "counter",
           "Connections refused by an overload limit, by reason.");
  w.Sample("meshmq_connections_refused_total", {{"reason", "per_address"}},
           n(E::kConnectionRefusedPerAddress));
  w.Sample("meshmq_connections_refused_total", {{"reason", "memory"}},
           n(E::kConnectionRefusedMemory));
  w.Counter("meshmq_accept_paused_total",
            "Times a listener waited before accepting (--max-accept-rate).", n(E::kAcceptPaused));
  w.Family("meshmq_client_reads_paused_total", "counter",
           "Times a client's reads were paused for back-pressure, by reason.");
  w.Sample("meshmq_client_reads_paused_total", {{"reason", "publish_rate"}},
           n(E::kReadPausedPublishRate));
  w.Sample("meshmq_client_reads_paused_total", {{"reason", "publish_bytes_rate"}},
           n(E::kReadPausedPublishBytes));
  w.Sample("meshmq_client_reads_paused_total", {{"reason", "outbound_backlog"}},
           n(E::kReadPausedOutbound));
  w.Family("meshmq_publishes_refused_total", "counter",
           "PUBLISH packets refused by an overload limit, by reason.");
  w.Sample("meshmq_publishes_refused_total", {{"reason", "memory"}}, n(E::kPublishRefusedMemory));
  w.Sample("meshmq_publishes_refused_total", {{"reason", "topic_levels"}},
           n(E::kPublishRefusedTopicLevels));
  w.Family("meshmq_subscriptions_refused_total", "counter",
           "Subscription filters refused by an overload limit, by reason.");
  w.Sample("meshmq_subscriptions_refused_total", {{"reason", "quota"}},
           n(E::kSubscribeRefusedQuota));
  w.Sample("meshmq_subscriptions_refused_total", {{"reason", "topic_levels"}},
           n(E::kSubscribeRefusedTopicLevels));
  w.Counter("meshmq_slow_consumer_disconnects_total",
            "Connections closed by --slow-consumer-policy disconnect.",
            n(E::kSlowConsumerDisconnect));
  w.Gauge("meshmq_memory_accounted_bytes",
          "Bytes of messages held (queued, in flight, retained), checked against the marks.",
          D(b.memory_accounted));
  w.Gauge("meshmq_memory_high_water_bytes", "Memory high-water mark; 0 = none.",
          D(b.memory_high_water));
  w.Gauge("meshmq_memory_low_water_bytes", "Publishes are accepted again below this.",
          D(b.memory_low_water));
  w.Gauge("meshmq_memory_overloaded", "1 while above the high-water mark (publishes refused).",
          b.memory_overloaded ? 1 : 0);
}

void RenderBroker(const MetricsSnapshot& s, PrometheusWriter& w) {
  const broker::StatsSnapshot& b = s.broker;
  w.Family("meshmq_build_info", "gauge", "Build information; the value is always 1.");
  w.Sample("meshmq_build_info", {{"version", s.version}, {"node", s.node_id}}, 1);
  w.Gauge("meshmq_uptime_seconds", "Seconds since the broker started.", s.uptime_seconds);
  w.Family("meshmq_connections_open", "gauge", "Open client connections by listener.");
  w.Sample("meshmq_connections_open", {{"listener", "mqtt"}}, D(b.connections_current));
  w.Family("meshmq_connections_total", "counter", "Client connections accepted by listener.");
  w.Sample("meshmq_connections_total", {{"listener", "mqtt"}}, D(b.connections_total));
  w.Family("meshmq_sessions", "gauge", "Sessions on this node by state.");
  w.Sample("meshmq_sessions", {{"state", "live"}}, D(b.sessions - b.sessions_offline));
  w.Sample("meshmq_sessions", {{"state", "offline"}}, D(b.sessions_offline));
  w.Gauge("meshmq_subscriptions", "Subscriptions on this node, shared ones included.",
          D(b.subscriptions));
  w.Gauge("meshmq_shared_subscriptions", "Shared subscriptions ($share/...) on this node.",
          D(b.shared_subscriptions));
  w.Gauge("meshmq_retained_messages", "Retained messages held by this node.", D(b.retained));
  w.Family("meshmq_messages_received_total", "counter", "PUBLISH packets received from clients.");
  for (int q = 0; q < 3; ++q) {
    w.Sample("meshmq_messages_received_total", {{"qos", std::to_string(q)}},
             D(b.messages_received[q]));
  }
  w.Family("meshmq_messages_sent_total", "counter", "PUBLISH packets sent to clients.");
  for (int q = 0; q < 3; ++q) {
    w.Sample("meshmq_messages_sent_total", {{"qos", std::to_string(q)}}, D(b.messages_sent[q]));
  }
  w.Counter("meshmq_received_bytes_total", "Bytes read from client connections.",
            D(b.bytes_received));
  w.Counter("meshmq_sent_bytes_total", "Bytes written to client connections.", D(b.bytes_sent));
  w.Counter("meshmq_shard_handoffs_total",
            "Messages routed on one worker thread (shard) and delivered by another of this node.",
            D(b.handoffs));
  w.Family("meshmq_messages_dropped_total", "counter", "Messages dropped, by reason.");
  for (size_t r = 0; r < std::size(kDropReasons); ++r) {
    w.Sample("meshmq_messages_dropped_total", {{"reason", kDropReasons[r]}}, D(b.dropped[r]));
  }
  w.Gauge("meshmq_inflight_messages", "Outbound QoS 1/2 messages awaiting acknowledgement.",
          D(b.inflight));
  w.Counter("meshmq_session_failures_total",
            "Unexpected errors contained inside one session's handler.", D(b.session_failures));
  w.Counter("meshmq_protocol_errors_total", "Connections closed for an MQTT protocol error.",
            D(b.protocol_errors));
  RenderOverload(b, w);
  w.Family("meshmq_routes", "gauge", "Distinct subscription filters, by where they live.");
  w.Sample("meshmq_routes", {{"scope", "local"}}, D(b.routes));
  w.Sample("meshmq_routes", {{"scope", "remote"}}, D(s.remote_routes));
}

void RenderPeers(const ClusterMetrics& c, PrometheusWriter& w) {
  constexpr const char* kStates[] = {"alive", "suspect", "down", "left"};
  w.Family("meshmq_cluster_nodes", "gauge", "Known peer nodes by membership state.");
  for (const char* state : kStates) {
    int n = 0;
    for (const auto& p : c.peers) n += p.state == state ? 1 : 0;
    w.Sample("meshmq_cluster_nodes", {{"state", state}}, n);
  }
  w.Gauge("meshmq_cluster_ready", "1 once the cluster layer is ready.", c.ready ? 1 : 0);
  w.Family("meshmq_cluster_forwarded_messages_total", "counter", "Messages forwarded to a peer.");
  for (const auto& p : c.peers) {
    w.Sample("meshmq_cluster_forwarded_messages_total", {{"peer", p.node_id}}, D(p.forwarded_to));
  }
  w.Family("meshmq_cluster_received_messages_total", "counter", "Messages received from a peer.");
  for (const auto& p : c.peers) {
    w.Sample("meshmq_cluster_received_messages_total", {{"peer", p.node_id}}, D(p.received_from));
  }
  w.Family("meshmq_cluster_forward_queue_messages", "gauge",
           "Messages queued for a peer and not yet acknowledged.");
  for (const auto& p : c.peers) {
    w.Sample("meshmq_cluster_forward_queue_messages", {{"peer", p.node_id}}, D(p.queue_depth));
  }
}

void RenderClusterCounters(const ClusterMetrics& c, PrometheusWriter& w) {
  w.Counter("meshmq_cluster_forwards_sent_total",
            "Messages written to peer streams (resends included).", D(c.forwards_sent));
  w.Counter("meshmq_cluster_forwards_resent_total", "Messages written again after a reconnect.",
            D(c.forwards_resent));
  w.Counter("meshmq_cluster_forwards_received_total", "Forwarded messages received from peers.",
            D(c.forwards_received));
  w.Counter("meshmq_cluster_forwards_duplicate_total", "Received forwards dropped as duplicates.",
            D(c.forwards_duplicate));
  w.Counter("meshmq_cluster_forward_batches_corrupt_total",
            "Received forward batches that did not decode (the peer's stream was closed).",
            D(c.forward_batches_corrupt));
  w.Counter("meshmq_cluster_forwards_rejected_total",
            "Forwards refused: peer unknown or down, or its buffer full.", D(c.forwards_rejected));
  w.Counter("meshmq_cluster_forward_batches_sent_total",
            "Stream frames carrying forwards (forwards_sent / this = mean batch size).",
            D(c.forward_batches_sent));
  w.Counter("meshmq_cluster_route_deltas_sent_total", "Route changes sent to peers.",
            D(c.route_deltas_sent));
  w.Counter("meshmq_cluster_route_deltas_received_total", "Route changes received from peers.",
            D(c.route_deltas_received));
  w.Counter("meshmq_cluster_route_snapshots_received_total", "Full route sets received from peers.",
            D(c.route_snapshots_received));
  w.Counter("meshmq_cluster_route_snapshot_requests_total",
            "Full route sets requested after a gap or digest mismatch.",
            D(c.snapshot_requests_sent));
  w.Gauge("meshmq_cluster_route_propagation_lag_seconds",
          "Delay of the last applied route change, sender clock to here.",
          D(c.last_route_lag_ms) / 1000.0);
  w.Gauge("meshmq_cluster_route_propagation_lag_max_seconds",
          "Largest route change delay seen since start.", D(c.max_route_lag_ms) / 1000.0);
  w.Counter("meshmq_cluster_takeovers_total", "Session takeovers requested from peers.",
            D(c.takeovers_requested));
  w.Counter("meshmq_cluster_takeover_timeouts_total", "Session takeovers that timed out.",
            D(c.takeovers_timed_out));
  w.Counter("meshmq_cluster_evictions_total",
            "Clients disconnected here because a newer registration won.", D(c.evictions));
  w.Counter("meshmq_cluster_auth_failures_total", "Incoming peer streams refused.",
            D(c.auth_failures));
  w.Counter("meshmq_cluster_streams_established_total", "Peer streams established.",
            D(c.streams_established));
}

void RenderCluster(const ClusterMetrics& c, PrometheusWriter& w) {
  RenderPeers(c, w);
  RenderClusterCounters(c, w);
  std::vector<double> bounds;
  for (double ms : c.forward_latency_bounds_ms) bounds.push_back(ms / 1000.0);
  // The cluster keeps bucket counts only, so the histogram has no _sum (docs/metrics.md).
  w.Histogram("meshmq_cluster_forward_latency_seconds",
              "Forward round trip: queued here until acknowledged by the peer.", bounds,
              c.forward_latency_buckets, nullptr);
  if (c.discovery_lookups) {
    w.Counter("meshmq_discovery_lookups_total", "Peer discovery lookups.", D(*c.discovery_lookups));
  }
  if (c.discovery_lookup_errors) {
    w.Counter("meshmq_discovery_lookup_errors_total", "Peer discovery lookups that failed.",
              D(*c.discovery_lookup_errors));
  }
}

void RenderProcess(const ProcessMetrics& p, PrometheusWriter& w) {
  w.Counter("process_cpu_seconds_total", "User and system CPU time spent in seconds.",
            p.cpu_seconds);
  w.Gauge("process_resident_memory_bytes", "Resident memory size in bytes.",
          D(p.resident_memory_bytes));
  w.Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.",
          D(p.virtual_memory_bytes));
  w.Gauge("process_open_fds", "Number of open file descriptors.", D(p.open_fds));
  w.Gauge("process_max_fds", "Maximum number of open file descriptors.", D(p.max_fds));
  w.Gauge("process_start_time_seconds",
          "Start time of the process since the Unix epoch in seconds.", p.start_time_seconds);
}

}  // namespace

std::string RenderMetrics(const MetricsSnapshot& snapshot) {
  PrometheusWriter w;
  RenderBroker(snapshot, w);
  if (snapshot.cluster) RenderCluster(*snapshot.cluster, w);
  RenderProcess(snapshot.process, w);
  return w.Take() + snapshot.extra;
}

}  // namespace meshmq::http
