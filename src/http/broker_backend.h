// The AdminBackend of a real node: reads and changes the broker (and, through ClusterView, the
// cluster). Per-shard data (clients, sessions, subscriptions) is gathered by posting one task to
// each shard's io_context and waiting for the answers with a timeout, because shard objects may
// only be touched on their own thread.
//
// Threads: any (the HTTP thread in practice); it blocks the caller up to `timeout` per call.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "broker/broker.h"
#include "http/admin_backend.h"

namespace meshmq::http {

// What the admin API needs from the cluster layer, implemented in src/app over
// cluster::ClusterNode so src/http does not depend on the cluster library.
class ClusterView {
 public:
  virtual ~ClusterView() = default;
  virtual std::string SelfAddress() = 0;
  virtual std::vector<NodeInfo> Peers() = 0;  // sorted by node id
  virtual bool Ready() = 0;
  virtual ClusterMetrics Metrics() = 0;
};

struct BrokerBackendOptions {
  std::string node_id;
  std::chrono::milliseconds timeout{2000};  // for answers from the shards
  // Whether the node's listeners are up; empty = always.
  std::function<bool()> listeners_ready;
  std::string http_address;                      // announced to peers; see NodeInfo
  std::map<std::string, std::string> listeners;  // kind -> "host:port"; see NodeInfo
  // Extra /metrics families (Prometheus text) from src/app; empty = none.
  std::function<std::string()> extra_metrics;
};

class BrokerBackend : public AdminBackend {
 public:
  // `cluster` may be null (clustering off); both must outlive the backend.
  BrokerBackend(broker::Broker& broker, ClusterView* cluster, BrokerBackendOptions options);

  std::vector<NodeInfo> Nodes() override;
  absl::StatusOr<std::vector<ClientInfo>> Clients(const std::string& prefix) override;
  absl::StatusOr<ClientDetail> Client(const std::string& client_id) override;
  absl::Status Kick(const std::string& client_id) override;
  absl::StatusOr<std::vector<SubscriptionInfo>> Subscriptions() override;
  RoutesInfo Routes() override;
  RetainedPage ListRetained(const std::string& prefix, size_t offset, size_t limit) override;
  std::optional<RetainedInfo> GetRetained(const std::string& topic) override;
  absl::Status DeleteRetained(const std::string& topic) override;
  absl::Status Publish(const PublishRequest& request) override;
  bool Ready() override;
  MetricsSnapshot Metrics() override;

 private:
  // Runs fn on the thread of each shard in `shards` (all when empty) and collects what each
  // appends; Unavailable when a shard does not answer within the timeout.
  template <typename T>
  absl::StatusOr<std::vector<T>> Gather(std::function<void(broker::Shard&, std::vector<T>&)> fn,
                                        std::vector<int> shards = {});

  broker::Broker& broker_;
  ClusterView* cluster_;
  const BrokerBackendOptions options_;
};

}  // namespace meshmq::http
