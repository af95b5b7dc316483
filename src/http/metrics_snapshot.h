// Everything /metrics shows, as plain values gathered at one moment (see docs/metrics.md).
// The cluster part mirrors cluster::ClusterStats so src/http need not include the cluster layer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/broker.h"

namespace meshmq::http {

struct PeerMetrics {
  std::string node_id;
  std::string state;  // alive|suspect|down|left
  uint64_t forwarded_to = 0, received_from = 0, queue_depth = 0;
};

struct ClusterMetrics {
  std::vector<PeerMetrics> peers;
  bool ready = false;
  uint64_t route_deltas_sent = 0, route_deltas_received = 0, route_snapshots_received = 0;
  uint64_t snapshot_requests_sent = 0;
  int64_t last_route_lag_ms = 0, max_route_lag_ms = 0;
  uint64_t forwards_sent = 0, forwards_resent = 0, forwards_received = 0;
  uint64_t forwards_duplicate = 0, forwards_rejected = 0, forward_batches_corrupt = 0;
  uint64_t forward_batches_sent = 0;  // stream frames carrying forwards
  // Upper bounds in milliseconds; buckets has one more entry (+Inf). Not cumulative.
  std::vector<double> forward_latency_bounds_ms;
  std::vector<uint64_t> forward_latency_buckets;
  uint64_t takeovers_requested = 0, takeovers_timed_out = 0, evictions = 0;
  uint64_t auth_failures = 0, streams_established = 0;
  // Discovery, when the node runs one.
  std::optional<uint64_t> discovery_lookups, discovery_lookup_errors;
};

struct ProcessMetrics {
  double cpu_seconds = 0;
  int64_t resident_memory_bytes = 0;
  int64_t virtual_memory_bytes = 0;
  int64_t open_fds = 0;
  int64_t max_fds = 0;
  double start_time_seconds = 0;  // since the Unix epoch
};

struct MetricsSnapshot {
  std::string version;
  std::string node_id;
  double uptime_seconds = 0;
  broker::StatsSnapshot broker;
  size_t remote_routes = 0;
  std::optional<ClusterMetrics> cluster;  // empty when clustering is off
  ProcessMetrics process;
  // Families rendered by src/app for parts src/http does not know (HTTP auth, bridges),
  // already in the exposition format; appended as is.
  std::string extra;
};

// Reads /proc/self (Linux); fields it cannot read stay 0.
ProcessMetrics ReadProcessMetrics();

// The Prometheus text exposition format 0.0.4 of `snapshot`.
std::string RenderMetrics(const MetricsSnapshot& snapshot);

}  // namespace meshmq::http
