// Joins the broker and the cluster layer, which do not know each other: the broker's outbound
// ClusterPort calls go to the ClusterNode, and the cluster's LocalNode callbacks go to the broker.
#pragma once

#include <memory>

#include "broker/broker.h"
#include "broker/cluster_port.h"
#include "cluster/cluster_node.h"

namespace meshmq::app {

class ClusterAdapter : public broker::ClusterPort, public cluster::LocalNode {
 public:
  explicit ClusterAdapter(broker::Broker& broker) : broker_(broker) {}
  void set_node(cluster::ClusterNode* node) { node_ = node; }

  // broker::ClusterPort
  void AddLocalRoute(const std::string& filter) override;
  void RemoveLocalRoute(const std::string& filter) override;
  void Forward(const std::string& node_id, broker::MessagePtr msg, bool to_subscribers,
               std::vector<std::string> shared_filters,
               std::function<void(bool)> on_queued) override;
  void ForwardToSession(const std::string& node_id, broker::MessagePtr msg,
                        broker::SessionTarget target, std::function<void(bool)> on_queued) override;
  void AwaitForwardBarrier(const std::string& node_id, std::function<void()> done) override;
  void PublishRetained(broker::MessagePtr msg) override;
  void ClientConnected(const std::string& client_id, int64_t connected_at_ms) override;
  void ClientDisconnected(const std::string& client_id) override;
  void ClaimClientId(const std::string& client_id,
                     std::function<void(std::optional<std::string>)> done) override;

  // cluster::LocalNode
  void RemoteRoutesChanged(const std::string& node_id, const std::vector<std::string>& added,
                           const std::vector<std::string>& removed) override;
  void NodeDown(const std::string& node_id) override;
  void DeliverForwarded(broker::MessagePtr msg, bool to_subscribers,
                        std::vector<std::string> shared_filters,
                        std::function<void()> done) override;
  void DeliverForwardedBatch(broker::ForwardedBatch batch,
                             std::function<void()> done) override;
  void DeliverToSession(broker::MessagePtr msg, broker::SessionTarget target,
                        std::function<void()> done) override;
  void ApplyRetained(broker::MessagePtr msg) override;
  void TakeOverSession(const std::string& client_id, const std::string& to_node,
                       std::function<void(std::optional<std::string>)> done) override;
  void EvictClient(const std::string& client_id) override;
  void SyncShards(std::function<void()> done) override;
  std::vector<broker::MessagePtr> RetainedSnapshot() override;

 private:
  broker::Broker& broker_;
  cluster::ClusterNode* node_ = nullptr;
};

}  // namespace meshmq::app
