#include "app/admin_backend.h"

#include <iterator>

#include "http/broker_backend.h"

namespace meshmq::app {
namespace {

class ClusterNodeView : public http::ClusterView {
 public:
  ClusterNodeView(cluster::ClusterNode& cluster, const discovery::PeerSource* peers)
      : cluster_(cluster), peers_(peers) {}

  std::string SelfAddress() override { return cluster_.BoundAddress(); }

  std::vector<http::NodeInfo> Peers() override {
    std::vector<http::NodeInfo> out;
    for (const auto& m : cluster_.Members()) {
      out.push_back(http::NodeInfo{m.node_id, m.address, m.state, false, m.routes,
                                   m.http_address, {}});
    }
    return out;
  }

  bool Ready() override { return cluster_.Ready(); }

  http::ClusterMetrics Metrics() override {
    http::ClusterMetrics c;
    for (const auto& m : cluster_.Members()) {
      c.peers.push_back({m.node_id, m.state, m.forwarded_to, m.received_from, m.queue_depth});
    }
    c.ready = cluster_.Ready();
    CopyStats(cluster_.Stats(), c);
    if (peers_ != nullptr) {
      c.discovery_lookups = peers_->lookups();
      c.discovery_lookup_errors = peers_->lookup_errors();
    }
    return c;
  }

 private:
  static void CopyStats(const cluster::ClusterStats& s, http::ClusterMetrics& c) {
    c.route_deltas_sent = s.route_deltas_sent;
    c.route_deltas_received = s.route_deltas_received;
    c.route_snapshots_received = s.route_snapshots_received;
    c.snapshot_requests_sent = s.snapshot_requests_sent;
    c.last_route_lag_ms = s.last_route_lag_ms;
    c.max_route_lag_ms = s.max_route_lag_ms;
    c.forwards_sent = s.forwards_sent;
    c.forwards_resent = s.forwards_resent;
    c.forwards_received = s.forwards_received;
    c.forwards_duplicate = s.forwards_duplicate;
    c.forwards_rejected = s.forwards_rejected;
    c.forward_batches_corrupt = s.forward_batches_corrupt;
    c.forward_batches_sent = s.forward_batches_sent;
    for (int ms : cluster::ClusterStats::kForwardLatencyBoundsMs) {
      c.forward_latency_bounds_ms.push_back(ms);
    }
    c.forward_latency_buckets.assign(std::begin(s.forward_latency_buckets),
                                     std::end(s.forward_latency_buckets));
    c.takeovers_requested = s.takeovers_requested;
    c.takeovers_timed_out = s.takeovers_timed_out;
    c.evictions = s.evictions;
    c.auth_failures = s.auth_failures;
    c.streams_established = s.streams_established;
  }

  cluster::ClusterNode& cluster_;
  const discovery::PeerSource* peers_;
};

// BrokerBackend that owns its cluster view (constructed first, as a base, so the backend's
// pointer to it is valid from the start).
struct ViewHolder {
  std::unique_ptr<ClusterNodeView> view;
};

class NodeBackend : private ViewHolder, public http::BrokerBackend {
 public:
  NodeBackend(std::unique_ptr<ClusterNodeView> view, broker::Broker& broker,
              http::BrokerBackendOptions options)
      : ViewHolder{std::move(view)},
        http::BrokerBackend(broker, ViewHolder::view.get(), std::move(options)) {}
};

}  // namespace

std::unique_ptr<http::HttpServer> MakeHttpServer(const HttpWiring& wiring,
                                                 const config::Config& config) {
  if (config.http_listen.host == "off") return nullptr;
  std::unique_ptr<ClusterNodeView> view;
  if (wiring.cluster != nullptr) {
    view = std::make_unique<ClusterNodeView>(*wiring.cluster, wiring.peers);
  }
  http::BrokerBackendOptions backend;
  backend.node_id = wiring.broker->options().node_id;
  backend.listeners_ready = wiring.listeners_ready;
  backend.http_address = wiring.http_address;
  backend.listeners = wiring.listeners;
  backend.extra_metrics = wiring.extra_metrics;
  http::HttpServerOptions options;
  options.host = config.http_listen.host;
  options.port = config.http_listen.port;
  options.api.api_token = wiring.api_token;
  return std::make_unique<http::HttpServer>(
      std::move(options),
      std::make_unique<NodeBackend>(std::move(view), *wiring.broker, std::move(backend)));
}

}  // namespace meshmq::app
