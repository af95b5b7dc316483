#include "app/cluster_adapter.h"

#include "broker/session_codec.h"

namespace meshmq::app {

void ClusterAdapter::AddLocalRoute(const std::string& filter) { node_->AddLocalRoute(filter); }
void ClusterAdapter::RemoveLocalRoute(const std::string& filter) {
  node_->RemoveLocalRoute(filter);
}

void ClusterAdapter::Forward(const std::string& node_id, broker::MessagePtr msg,
                             bool to_subscribers, std::vector<std::string> shared_filters,
                             std::function<void(bool)> on_queued) {
  node_->Forward(node_id, std::move(msg), to_subscribers, std::move(shared_filters),
                 std::move(on_queued));
}

void ClusterAdapter::ForwardToSession(const std::string& node_id, broker::MessagePtr msg,
                                      broker::SessionTarget target,
                                      std::function<void(bool)> on_queued) {
  node_->ForwardToSession(node_id, std::move(msg), std::move(target), std::move(on_queued));
}

void ClusterAdapter::AwaitForwardBarrier(const std::string& node_id,
                                         std::function<void()> done) {
  node_->AwaitForwardBarrier(node_id, std::move(done));
}

void ClusterAdapter::PublishRetained(broker::MessagePtr msg) {
  node_->PublishRetained(std::move(msg));
}

void ClusterAdapter::ClientConnected(const std::string& client_id, int64_t connected_at_ms) {
  node_->ClientConnected(client_id, connected_at_ms);
}

void ClusterAdapter::ClientDisconnected(const std::string& client_id) {
  node_->ClientDisconnected(client_id);
}

void ClusterAdapter::ClaimClientId(const std::string& client_id,
                                   std::function<void(std::optional<std::string>)> done) {
  node_->ClaimClientId(client_id, std::move(done));
}

void ClusterAdapter::RemoteRoutesChanged(const std::string& node_id,
                                         const std::vector<std::string>& added,
                                         const std::vector<std::string>& removed) {
  broker_.RemoteRoutesChanged(node_id, added, removed);
}

void ClusterAdapter::NodeDown(const std::string& node_id) { broker_.NodeDown(node_id); }

void ClusterAdapter::DeliverForwarded(broker::MessagePtr msg, bool to_subscribers,
                                      std::vector<std::string> shared_filters,
                                      std::function<void()> done) {
  broker_.DeliverForwarded(std::move(msg), to_subscribers, std::move(shared_filters),
                           std::move(done));
}

void ClusterAdapter::DeliverForwardedBatch(broker::ForwardedBatch batch,
                                           std::function<void()> done) {
  broker_.DeliverForwardedBatch(std::move(batch), std::move(done));
}

void ClusterAdapter::DeliverToSession(broker::MessagePtr msg, broker::SessionTarget target,
                                      std::function<void()> done) {
  broker_.DeliverToSession(std::move(msg), std::move(target), std::move(done));
}

void ClusterAdapter::ApplyRetained(broker::MessagePtr msg) {
  // Last writer wins by (timestamp, origin node), also against a local publish that raced it.
  broker_.ApplyRetained(std::move(msg));
}

void ClusterAdapter::TakeOverSession(const std::string& client_id, const std::string& to_node,
                                     std::function<void(std::optional<std::string>)> done) {
  broker_.TakeOverSession(client_id, to_node, [done = std::move(done)](
                                         std::optional<broker::SessionState> state) {
    if (!state) {
      done(std::nullopt);
      return;
    }
    done(broker::EncodeSessionState(*state));
  });
}

void ClusterAdapter::EvictClient(const std::string& client_id) { broker_.EvictClient(client_id); }

void ClusterAdapter::SyncShards(std::function<void()> done) { broker_.SyncShards(std::move(done)); }

std::vector<broker::MessagePtr> ClusterAdapter::RetainedSnapshot() {
  auto all = broker_.retained().List("", 0, SIZE_MAX);
  // $SYS topics are each node's own.
  std::erase_if(all, [](const broker::MessagePtr& m) { return m->topic.starts_with("$SYS"); });
  return all;
}

}  // namespace meshmq::app
