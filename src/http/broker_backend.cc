#include "http/broker_backend.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <future>
#include <limits>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "broker/client.h"

namespace meshmq::http {
namespace {

SubscriptionInfo ToInfo(const std::string& client_id, const broker::StoredSubscription& s) {
  SubscriptionInfo out;
  out.filter = s.request.filter;
  out.client_id = client_id;
  out.qos = s.request.qos;
  out.no_local = s.request.no_local;
  out.retain_as_published = s.request.retain_as_published;
  out.retain_handling = s.request.retain_handling;
  out.subscription_id = s.subscription_id;
  return out;
}

// Runs on the session's shard thread.
ClientInfo ToInfo(const std::string& node, const broker::Session& s) {
  ClientInfo out;
  out.client_id = s.client_id;
  out.node = node;
  out.protocol_version = static_cast<int>(s.version);
  out.connected = s.client != nullptr;
  if (s.client != nullptr) {
    out.address = s.client->remote_address();
    out.keep_alive = s.client->keep_alive();
  }
  out.subscriptions = s.subscriptions.size();
  out.queue_depth = s.queue.size();
  out.inflight = s.inflight.size();
  out.session_expiry_s = s.expiry_interval_s;
  return out;
}

RetainedInfo ToInfo(const broker::Message& m) {
  RetainedInfo out;
  out.topic = m.topic;
  out.payload = m.payload.str();
  out.qos = m.qos;
  out.timestamp_ms = m.timestamp_ms;
  out.origin_node = m.origin_node;
  out.expiry_at_ms = m.expiry_at_ms;
  return out;
}

}  // namespace

BrokerBackend::BrokerBackend(broker::Broker& broker, ClusterView* cluster,
                             BrokerBackendOptions options)
    : broker_(broker), cluster_(cluster), options_(std::move(options)) {}

template <typename T>
absl::StatusOr<std::vector<T>> BrokerBackend::Gather(
    std::function<void(broker::Shard&, std::vector<T>&)> fn, std::vector<int> shards) {
  if (broker_.stopping()) return absl::UnavailableError("the broker is stopping");
  if (shards.empty()) {
    for (int i = 0; i < broker_.shard_count(); ++i) shards.push_back(i);
  }
  // Shared with the posted tasks: after a timeout they still finish into it, unobserved.
  struct State {
    absl::Mutex mu;
    std::vector<T> out ABSL_GUARDED_BY(mu);
    int pending ABSL_GUARDED_BY(mu) = 0;
  };
  auto state = std::make_shared<State>();
  state->pending = static_cast<int>(shards.size());
  for (int i : shards) {
    broker::Shard* shard = &broker_.shard(i);
    boost::asio::post(shard->io(), [state, fn, shard] {
      std::vector<T> part;
      fn(*shard, part);
      absl::MutexLock lock(&state->mu);
      for (T& item : part) state->out.push_back(std::move(item));
      --state->pending;
    });
  }
  absl::MutexLock lock(&state->mu);
  auto done = [](int* pending) { return *pending == 0; };
  if (!state->mu.AwaitWithTimeout(absl::Condition(+done, &state->pending),
                                  absl::FromChrono(options_.timeout))) {
    return absl::UnavailableError("the broker's shards did not answer in time");
  }
  return std::move(state->out);
}

std::vector<NodeInfo> BrokerBackend::Nodes() {
  NodeInfo self;
  self.node_id = options_.node_id;
  self.address = cluster_ != nullptr ? cluster_->SelfAddress() : "";
  self.state = "alive";
  self.self = true;
  self.routes = broker_.LocalRoutes().size();
  self.http_address = options_.http_address;
  self.listeners = options_.listeners;
  std::vector<NodeInfo> out{self};
  if (cluster_ != nullptr) {
    for (NodeInfo& peer : cluster_->Peers()) out.push_back(std::move(peer));
  }
  return out;
}

absl::StatusOr<std::vector<ClientInfo>> BrokerBackend::Clients(const std::string& prefix) {
  const std::string& node = options_.node_id;
  return Gather<ClientInfo>([prefix, node](broker::Shard& shard, std::vector<ClientInfo>& out) {
    shard.ForEachSession([&](broker::Session& s) {
      if (s.client_id.starts_with(prefix)) out.push_back(ToInfo(node, s));
    });
  });
}

absl::StatusOr<ClientDetail> BrokerBackend::Client(const std::string& client_id) {
  int owner = broker_.registry().ShardOf(client_id);
  if (owner < 0) return absl::NotFoundError("no session with this client id on this node");
  const std::string& node = options_.node_id;
  auto found = Gather<ClientDetail>(
      [client_id, node](broker::Shard& shard, std::vector<ClientDetail>& out) {
        broker::Session* s = shard.FindSession(client_id);
        if (s == nullptr) return;
        ClientDetail detail{ToInfo(node, *s), {}};
        for (const auto& [filter, sub] : s->subscriptions) {
          detail.subscriptions.push_back(ToInfo(client_id, sub));
        }
        out.push_back(std::move(detail));
      },
      {owner});
  if (!found.ok()) return found.status();
  if (found->empty()) return absl::NotFoundError("no session with this client id on this node");
  ClientDetail detail = std::move(found->front());
  std::sort(detail.subscriptions.begin(), detail.subscriptions.end(),
            [](const auto& a, const auto& b) { return a.filter < b.filter; });
  return detail;
}

absl::Status BrokerBackend::Kick(const std::string& client_id) {
  auto done = std::make_shared<std::promise<bool>>();
  std::future<bool> found = done->get_future();
  broker_.Kick(client_id, [done](bool ok) { done->set_value(ok); });
  if (found.wait_for(options_.timeout) != std::future_status::ready) {
    return absl::UnavailableError("the broker did not answer in time");
  }
  if (!found.get()) return absl::NotFoundError("client is not connected to this node");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<SubscriptionInfo>> BrokerBackend::Subscriptions() {
  return Gather<SubscriptionInfo>([](broker::Shard& shard, std::vector<SubscriptionInfo>& out) {
    shard.ForEachSession([&](broker::Session& s) {
      for (const auto& [filter, sub] : s.subscriptions) out.push_back(ToInfo(s.client_id, sub));
    });
  });
}

RoutesInfo BrokerBackend::Routes() {
  RoutesInfo out;
  out.local = broker_.LocalRoutes();
  std::sort(out.local.begin(), out.local.end());
  // Every shard holds the whole remote route table; shard 0's copy answers (on its thread).
  using Pair = std::pair<std::string, std::string>;  // filter, node
  auto remote = Gather<Pair>(
      [](broker::Shard& shard, std::vector<Pair>& part) {
        for (const auto& [node, filters] : shard.remote_filters()) {
          for (const auto& filter : filters) part.emplace_back(filter, node);
        }
      },
      {0});
  if (remote.ok()) {
    for (auto& [filter, node] : *remote) out.remote[filter].push_back(node);
    for (auto& [filter, nodes] : out.remote) std::sort(nodes.begin(), nodes.end());
  }
  return out;
}

RetainedPage BrokerBackend::ListRetained(const std::string& prefix, size_t offset, size_t limit) {
  // One sorted pass gives the total as well as the page; the store hands out shared pointers,
  // so this copies no payloads beyond the page.
  std::vector<broker::MessagePtr> all =
      broker_.retained().List(prefix, 0, std::numeric_limits<size_t>::max());
  RetainedPage page;
  page.total = all.size();
  for (size_t i = offset; i < all.size() && i - offset < limit; ++i) {
    page.items.push_back(ToInfo(*all[i]));
  }
  return page;
}

std::optional<RetainedInfo> BrokerBackend::GetRetained(const std::string& topic) {
  broker::MessagePtr m = broker_.retained().Get(topic);
  if (!m) return std::nullopt;
  return ToInfo(*m);
}

absl::Status BrokerBackend::DeleteRetained(const std::string& topic) {
  if (!broker_.retained().Get(topic)) return absl::NotFoundError("no retained message");
  // An empty retained message deletes the topic [MQTT-3.3.1-6] here and, replicated with a newer
  // timestamp, on every peer (last writer wins).
  auto msg = std::make_shared<broker::Message>();
  msg->topic = topic;
  msg->retain = true;
  msg->origin_node = options_.node_id;
  msg->timestamp_ms = broker::NowMs();
  broker_.StoreRetained(msg, /*replicate=*/true);
  return absl::OkStatus();
}

absl::Status BrokerBackend::Publish(const PublishRequest& request) {
  if (broker_.stopping()) return absl::UnavailableError("the broker is stopping");
  auto msg = std::make_shared<broker::Message>();
  msg->topic = request.topic;
  msg->payload = codec::SharedBytes(request.payload);
  msg->qos = static_cast<uint8_t>(request.qos);
  msg->retain = request.retain;
  msg->origin_node = options_.node_id;
  msg->timestamp_ms = broker::NowMs();
  broker_.Publish(std::move(msg));
  return absl::OkStatus();
}

bool BrokerBackend::Ready() {
  if (broker_.stopping()) return false;
  if (options_.listeners_ready && !options_.listeners_ready()) return false;
  return cluster_ == nullptr || cluster_->Ready();
}

MetricsSnapshot BrokerBackend::Metrics() {
  MetricsSnapshot s;
  s.version = MESHMQ_VERSION;
  s.node_id = options_.node_id;
  s.uptime_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - broker_.started_at())
          .count();
  s.broker = broker_.Stats();
  // Every shard holds the full remote route table, so shard 0's count is the node's.
  auto remote =
      Gather<size_t>([](broker::Shard& shard,
                        std::vector<size_t>& out) { out.push_back(shard.RemoteRouteCount()); },
                     {0});
  if (remote.ok() && !remote->empty()) s.remote_routes = remote->front();
  if (cluster_ != nullptr) s.cluster = cluster_->Metrics();
  s.process = ReadProcessMetrics();
  if (options_.extra_metrics) s.extra = options_.extra_metrics();
  return s;
}

}  // namespace meshmq::http
