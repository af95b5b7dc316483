// What the HTTP endpoints need from the node, as plain values: the admin API and /metrics read
// and change the broker only through this interface, so src/http can be tested with a fake and
// the real implementation (BrokerBackend, src/http/broker_backend.h) can gather its data on the
// broker's own threads.
//
// Threads: every method is called on the HTTP thread and may block it briefly (an implementation
// waits for the shards to answer, with a timeout). Implementations must be thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "http/metrics_snapshot.h"

namespace meshmq::http {

struct NodeInfo {
  std::string node_id;
  std::string address;  // cluster address; empty when unknown or clustering is off
  std::string state;    // "alive" for this node; alive|suspect|down|left for peers
  bool self = false;
  size_t routes = 0;  // filters the node subscribes to (peers: as last announced)
  // "host:port" of the node's HTTP admin API (peers: as announced in the cluster hello); what
  // the cluster-wide API views call. Empty when unknown.
  std::string http_address;
  // This node only: its client listeners by kind ("mqtt", "ws", "mqtts", "wss") -> "host:port",
  // so the dashboard knows where to open MQTT over WebSocket.
  std::map<std::string, std::string> listeners;
};

struct SubscriptionInfo {
  std::string filter;  // as subscribed, "$share/g/f" included
  std::string client_id;
  int qos = 0;
  bool no_local = false;
  bool retain_as_published = false;
  int retain_handling = 0;
  uint32_t subscription_id = 0;
};

struct ClientInfo {
  std::string client_id;
  std::string node;
  int protocol_version = 0;  // 3 (3.1), 4 (3.1.1) or 5
  std::string address;       // empty while offline
  int keep_alive = 0;        // seconds
  bool connected = false;    // false: a persistent session without a connection
  size_t subscriptions = 0;
  size_t queue_depth = 0;
  size_t inflight = 0;
  uint32_t session_expiry_s = 0;
};

struct ClientDetail {
  ClientInfo info;
  std::vector<SubscriptionInfo> subscriptions;  // sorted by filter
};

struct RoutesInfo {
  std::vector<std::string> local;                          // sorted
  std::map<std::string, std::vector<std::string>> remote;  // filter -> nodes, sorted
};

struct RetainedInfo {
  std::string topic;
  std::string payload;  // raw bytes
  int qos = 0;
  int64_t timestamp_ms = 0;
  std::string origin_node;
  std::optional<int64_t> expiry_at_ms;
};

struct RetainedPage {
  size_t total = 0;  // matching the prefix, before offset/limit
  std::vector<RetainedInfo> items;
};

struct PublishRequest {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retain = false;
};

class AdminBackend {
 public:
  virtual ~AdminBackend() = default;

  // This node first, then its peers sorted by node id.
  virtual std::vector<NodeInfo> Nodes() = 0;
  // Every client and persistent session on this node whose id starts with `prefix`, in any order.
  virtual absl::StatusOr<std::vector<ClientInfo>> Clients(const std::string& prefix) = 0;
  // NotFound when no session of that id lives on this node.
  virtual absl::StatusOr<ClientDetail> Client(const std::string& client_id) = 0;
  // Disconnects the client (v5: reason 0x98). NotFound when it is not connected here.
  virtual absl::Status Kick(const std::string& client_id) = 0;
  virtual absl::StatusOr<std::vector<SubscriptionInfo>> Subscriptions() = 0;
  virtual RoutesInfo Routes() = 0;
  // Sorted by topic.
  virtual RetainedPage ListRetained(const std::string& prefix, size_t offset, size_t limit) = 0;
  virtual std::optional<RetainedInfo> GetRetained(const std::string& topic) = 0;
  // Deletes cluster-wide. NotFound when this node holds no message for `topic`.
  virtual absl::Status DeleteRetained(const std::string& topic) = 0;
  // Routed like a client's PUBLISH; the request is already validated.
  virtual absl::Status Publish(const PublishRequest& request) = 0;
  // Listeners up and, with clustering on, the cluster ready.
  virtual bool Ready() = 0;
  virtual MetricsSnapshot Metrics() = 0;
};

}  // namespace meshmq::http
