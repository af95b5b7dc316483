// A running meshmq node: the broker and everything wired around it (listeners, cluster, HTTP).
#pragma once

#include <memory>

#include "absl/status/status.h"
#include "app/admin_backend.h"
#include "app/cluster_adapter.h"
#include "auth/auth_service.h"
#include "bridge/bridge_manager.h"
#include "broker/broker.h"
#include "cluster/cluster_node.h"
#include "config/config.h"
#include "storage/store.h"
#include "transport/listener.h"

namespace meshmq::app {

broker::BrokerOptions BrokerOptionsFrom(const config::Config& config);

class Node {
 public:
  explicit Node(config::Config config);
  ~Node();

  // Binds every listener and starts the threads; an error names what failed.
  absl::Status Start();
  // Graceful stop: listeners close, clients are told (v5: 0x8B), threads end.
  void Stop();
  // SIGHUP: re-reads the password and ACL files (the old ones stay on error).
  void Reload();
  absl::Status ReloadCertificates();

  broker::Broker& broker() { return *broker_; }
  cluster::ClusterNode* cluster() { return cluster_.get(); }
  uint16_t mqtt_port() const { return listeners_.front()->port(); }  // TCP is always first

 private:
  absl::Status StartCluster();
  absl::Status StartAuth();
  bool AuthConfigured() const;  // any of the password file, ACL file, HTTP URLs, no anonymous
  void AddBuiltInHooks();       // "builtin-auth", "builtin-acl": the chain's first hooks
  absl::Status StartBridges();
  // --storage rocksdb: opens the store in --data-dir and restores what it holds into the broker.
  absl::Status StartStorage();

  config::Config config_;
  std::unique_ptr<broker::Broker> broker_;
  std::vector<std::unique_ptr<transport::Listener>> listeners_;  // TCP, TLS, WS, WSS
  std::unique_ptr<ClusterAdapter> cluster_adapter_;
  std::unique_ptr<cluster::ClusterNode> cluster_;
  const discovery::PeerSource* peer_source_ = nullptr;  // owned by cluster_
  std::unique_ptr<http::HttpServer> http_;
  std::unique_ptr<auth::AuthService> auth_;
  std::unique_ptr<bridge::BridgeManager> bridges_;  // null without configured bridges
  std::unique_ptr<storage::Store> store_;  // nullptr with --storage memory
  bool stopped_ = false;
};

}  // namespace meshmq::app
