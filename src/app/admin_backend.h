// Wires the HTTP endpoint (src/http) to this node: the broker, and the cluster when clustering
// is on. src/http knows the broker; the cluster reaches it through http::ClusterView, which is
// implemented here over cluster::ClusterNode.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "broker/broker.h"
#include "cluster/cluster_node.h"
#include "config/config.h"
#include "discovery/peer_source.h"
#include "http/http_server.h"

namespace meshmq::app {

struct HttpWiring {
  broker::Broker* broker = nullptr;              // required
  cluster::ClusterNode* cluster = nullptr;       // null when clustering is off
  const discovery::PeerSource* peers = nullptr;  // null when no discovery runs (metrics only)
  // True once the node's listeners are up; /readyz answers 503 before.
  std::function<bool()> listeners_ready;
  std::string api_token;  // empty = admin API open
  std::string http_address;  // as announced to peers (HttpAdvertiseAddress)
  std::map<std::string, std::string> listeners;  // client listeners: kind -> "host:port"
  std::function<std::string()> extra_metrics;  // HTTP auth and bridge families; may be empty
};

// The HTTP server for config.http_listen, not yet started; null when the host is "off".
// Everything in `wiring` must outlive the server.
std::unique_ptr<http::HttpServer> MakeHttpServer(const HttpWiring& wiring,
                                                 const config::Config& config);

}  // namespace meshmq::app
