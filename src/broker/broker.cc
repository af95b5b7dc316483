#include "broker/broker.h"

#include <atomic>
#include <chrono>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "broker/client.h"
#include "codec/topic_rules.h"

namespace meshmq::broker {

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

Broker::Broker(BrokerOptions options)
    : options_(std::move(options)),
      address_limiter_(options_.max_connections_per_address),
      memory_guard_(options_.memory_high_water_bytes, options_.memory_low_water_bytes) {
  int n = options_.workers > 0 ? options_.workers : 1;
  for (int i = 0; i < n; ++i) {
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    guards_.push_back(boost::asio::make_work_guard(*contexts_.back()));
  }
  for (int i = 0; i < n; ++i) shards_.push_back(std::make_unique<Shard>(*this, i, *contexts_[i]));
  for (auto& shard : shards_) {  // OnMessageDropped: drops are rare, one indirect call each
    shard->stats().on_drop_context = &hooks_;
    shard->stats().on_drop = [](void* chain, DropReason reason) {
      auto* hooks = static_cast<HookChain*>(chain);
      if (!hooks->empty()) hooks->MessageDropped(reason);
    };
  }
  started_at_ = std::chrono::steady_clock::now();
}

Broker::~Broker() { Stop(); }

void Broker::Start() {
  for (auto& ctx : contexts_) {
    threads_.emplace_back([ctx = ctx.get()] { ctx->run(); });
  }
  StartSysTimer();
  if (options_.memory_high_water_bytes > 0) {
    memory_timer_ = std::make_unique<boost::asio::steady_timer>(*contexts_[0]);
    boost::asio::post(*contexts_[0], [this] { SampleMemory(); });
  }
}

// Every kMemorySampleInterval on shard 0: a sum over a few counters, so cheap enough to keep the
// reaction time short (a burst of publishes can only overshoot the mark for this long).
void Broker::SampleMemory() {
  int64_t total = MemoryAccount::Total();
  if (memory_guard_.Update(total)) {
    bool over = memory_guard_.overloaded();
    memory_overloaded_.store(over, std::memory_order_relaxed);
    if (over) {
      spdlog::warn("overload: memory account {} bytes reached the high-water mark {}: refusing "
                   "publishes and new sessions until below {}",
                   total, memory_guard_.high(), memory_guard_.low());
    } else {
      spdlog::info("overload: memory account {} bytes fell below the low-water mark {}: "
                   "accepting publishes again", total, memory_guard_.low());
    }
  }
  memory_timer_->expires_after(kMemorySampleInterval);
  memory_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopping()) SampleMemory();
  });
}

void Broker::Stop() {
  if (threads_.empty()) return;
  stopping_ = true;
  // Each shard closes its own clients and timers on its own thread; then the threads run out of
  // work and end.
  for (auto& shard : shards_) {
    Shard* s = shard.get();
    boost::asio::post(s->io(), [s] {
      std::vector<Client*> clients;
      s->ForEachClient([&](Client& c) { clients.push_back(&c); });
      for (Client* c : clients) c->CloseWith(codec::ReasonCode::kServerShuttingDown);
      s->StopDeadlines();
      s->ForEachSession([](Session& session) {
        session.CancelTimers();
      });
    });
  }
  if (sys_timer_) {
    boost::asio::post(*contexts_[0], [t = sys_timer_.get()] { t->cancel(); });
  }
  if (memory_timer_) {
    boost::asio::post(*contexts_[0], [t = memory_timer_.get()] { t->cancel(); });
  }
  guards_.clear();
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(std::min<uint32_t>(options_.drain_timeout_ms, 5000));
  for (auto& ctx : contexts_) {
    while (!ctx->stopped() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ctx->stop();
  }
  for (auto& t : threads_) t.join();
  threads_.clear();
  // What the last turn of each shard changed (sessions kept for a restart) is written even if its
  // commit did not get to run before the drain deadline.
  if (storage_ != nullptr) {
    for (int i = 0; i < shard_count(); ++i) storage_->Commit(i);
  }
  if (auth_pool_) auth_pool_->join();
}

void Broker::set_auth(auth::AuthService* auth) {
  auth_ = auth;
  if (auth_ != nullptr && !auth_pool_) auth_pool_ = std::make_unique<boost::asio::thread_pool>(2);
}

void Broker::RouteRef(const std::string& filter, int delta) {
  bool announce = false, withdraw = false;
  {
    absl::MutexLock lock(&routes_mu_);
    int count = route_refs_.Add(filter, delta);  // removed at 0
    if (delta > 0 && count == 1) announce = true;
    if (count <= 0) withdraw = delta < 0;
  }
  if (cluster_ == nullptr) return;
  if (announce) cluster_->AddLocalRoute(filter);
  if (withdraw) cluster_->RemoveLocalRoute(filter);
}

std::vector<std::string> Broker::LocalRoutes() const {
  absl::MutexLock lock(&routes_mu_);
  std::vector<std::string> out;
  out.reserve(route_refs_.size());
  route_refs_.ForEach([&out](std::string_view filter) { out.emplace_back(filter); });
  return out;
}

void Broker::StoreRetained(const MessagePtr& msg, bool replicate, int shard) {
  if (retained_.Set(msg)) {
    PersistRetained(msg, shard);
    if (!hooks_.empty()) hooks_.RetainedStored(ViewOf(*msg, msg->qos));
  }
  if (replicate && cluster_ != nullptr) cluster_->PublishRetained(msg);
}

void Broker::ApplyRetained(MessagePtr msg) {
  if (retained_.SetIfNewer(msg)) PersistRetained(msg, -1);
}

void Broker::PersistRetained(const MessagePtr& msg, int shard) {
  if (storage_ == nullptr) return;
  if (shard >= 0) shards_[shard]->ScheduleCommit();
  if (msg->payload.size() == 0) {
    storage_->DeleteRetained(shard, msg->topic);
  } else {
    storage_->PutRetained(shard, msg);
  }
}

void Broker::RemoteRoutesChanged(const std::string& node, const std::vector<std::string>& added,
                                 const std::vector<std::string>& removed) {
  for (auto& shard : shards_) {
    Shard* s = shard.get();
    boost::asio::post(s->io(), [s, node, added, removed] {
      for (const auto& f : added) s->ApplyRemoteRoute(node, f, true);
      for (const auto& f : removed) s->ApplyRemoteRoute(node, f, false);
    });
  }
}

void Broker::SyncShards(std::function<void()> done) {
  auto left = std::make_shared<std::atomic<size_t>>(shards_.size());
  auto finish = std::make_shared<std::function<void()>>(std::move(done));
  for (auto& shard : shards_) {
    boost::asio::post(shard->io(), [left, finish] {
      if (left->fetch_sub(1) == 1) (*finish)();
    });
  }
}

void Broker::NodeDown(const std::string& node) {
  for (auto& shard : shards_) {
    Shard* s = shard.get();
    boost::asio::post(s->io(), [s, node] { s->DropNode(node); });
  }
}

void Broker::DeliverForwarded(MessagePtr msg, bool to_subscribers, std::vector<std::string> shared,
                              std::function<void()> done) {
  ChargeMemory(*msg);  // built by the cluster layer, not yet shared with any shard
  // Any shard can fan a forwarded message out to the others; spread the work by topic.
  size_t pick = std::hash<std::string>{}(msg->topic) % shards_.size();
  Shard* s = shards_[pick].get();
  boost::asio::post(s->io(), [s, msg = std::move(msg), to_subscribers, shared = std::move(shared),
                              done = std::move(done)]() mutable {
    RouteScope scope;
    scope.include_remote = false;  // a forwarded message is never forwarded again
    scope.note_for_late_routes = false;
    scope.to_subscribers = to_subscribers;
    scope.all_shared = false;
    scope.shared_filters = std::move(shared);
    s->Route(msg, scope);
    if (done) done();
  });
}

void Broker::DeliverForwardedBatch(ForwardedBatch batch, std::function<void()> done) {
  // Spread by topic like DeliverForwarded, so one topic's messages keep their order; the peer's
  // placement may send a topic to its subscribers' shard instead (forward_placement.h).
  const size_t n = shards_.size();
  ForwardPlacement* placement = batch.placement.get();
  if (placement != nullptr) placement->ApplyIfIdle();
  std::vector<std::vector<RemoteDelivery>> parts(n);
  for (RemoteDelivery& d : batch.items) {
    std::string_view topic;
    if (d.msg != nullptr) {
      ChargeMemory(*d.msg);  // built by the cluster layer, not yet shared with any shard
      topic = d.msg->topic;
    } else {
      topic = batch.unbuilt->topic(d.unbuilt);
    }
    const size_t hash = std::hash<std::string_view>{}(topic);
    parts[placement != nullptr ? placement->ShardFor(hash, n) : hash % n].push_back(std::move(d));
  }
  size_t used = 0;
  for (const auto& part : parts) used += part.empty() ? 0 : 1;
  auto remaining = std::make_shared<std::atomic<size_t>>(used);
  auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
  for (size_t i = 0; i < n; ++i) {
    if (parts[i].empty()) continue;
    Shard* s = shards_[i].get();
    if (placement != nullptr) placement->PartPosted();
    boost::asio::post(s->io(), [s, part = std::move(parts[i]), unbuilt = batch.unbuilt,
                                placement = batch.placement, remaining, shared_done]() mutable {
      s->RouteForwarded(part, unbuilt.get(), placement.get());
      if (placement != nullptr) placement->PartDone();
      if (remaining->fetch_sub(1) == 1 && *shared_done) (*shared_done)();
    });
  }
  if (used == 0 && *shared_done) (*shared_done)();
}

void Broker::TakeOverSession(const std::string& client_id, const std::string& to_node,
                             std::function<void(std::optional<SessionState>)> done) {
  int owner = registry_.ShardOf(client_id);
  if (owner < 0) {
    done(std::nullopt);
    return;
  }
  Shard* s = shards_[owner].get();
  boost::asio::post(s->io(), [s, client_id, to_node, done = std::move(done)] {
    std::optional<SessionState> state;
    if (Session* session = s->FindSession(client_id); session && !session->moved()) {
      if (session->client != nullptr) {
        session->client->CloseWith(codec::ReasonCode::kSessionTakenOver);
      }
      if (Session* still = s->FindSession(client_id)) {
        uint64_t token = still->registry_token;
        state = to_node.empty() ? s->ExtractSession(*still) : s->MoveSession(*still, to_node);
        s->broker().registry().Release(client_id, token);
      }
    }
    done(std::move(state));
  });
}

void Broker::EvictClient(const std::string& client_id) {
  Kick(client_id, [](bool) {});
}

void Broker::Kick(const std::string& client_id, std::function<void(bool)> done) {
  int owner = registry_.ShardOf(client_id);
  if (owner < 0) {
    done(false);
    return;
  }
  Shard* s = shards_[owner].get();
  boost::asio::post(s->io(), [s, client_id, done = std::move(done)] {
    Session* session = s->FindSession(client_id);
    bool found = session != nullptr && session->client != nullptr;
    if (found) session->client->CloseWith(codec::ReasonCode::kAdministrativeAction);
    done(found);
  });
}

void Broker::Publish(MessagePtr msg) {
  if (msg->retain) StoreRetained(msg, true);
  Shard* s = shards_[0].get();
  boost::asio::post(s->io(), [s, msg = std::move(msg)] { s->Route(msg, RouteScope{}); });
}

void Broker::ForEachShard(std::function<void(Shard&)> fn) {
  for (auto& shard : shards_) {
    Shard* s = shard.get();
    boost::asio::post(s->io(), [s, fn] { fn(*s); });
  }
}

StatsSnapshot Broker::Stats() const {
  StatsSnapshot out;
  auto r = [](const auto& c) { return c.load(std::memory_order_relaxed); };
  for (const auto& shard : shards_) {
    auto& st = shard->stats();
    out.connections_total += r(st.connections_total);
    out.connections_current += r(st.connections_current);
    out.sessions += r(st.sessions);
    out.sessions_offline += r(st.sessions_offline);
    out.subscriptions += r(st.subscriptions);
    out.shared_subscriptions += r(st.shared_subscriptions);
    out.inflight += r(st.inflight);
    for (int q = 0; q < 3; ++q) {
      out.messages_received[q] += r(st.messages_received[q]);
      out.messages_sent[q] += r(st.messages_sent[q]);
    }
    out.bytes_received += r(st.bytes_received);
    out.bytes_sent += r(st.bytes_sent);
    out.handoffs += r(st.handoffs);
    for (int d = 0; d < static_cast<int>(DropReason::kCount); ++d) out.dropped[d] += r(st.dropped[d]);
    out.session_failures += r(st.session_failures);
    out.protocol_errors += r(st.protocol_errors);
    for (int e = 0; e < static_cast<int>(OverloadEvent::kCount); ++e) {
      out.overload[e] += r(st.overload[e]);
    }
  }
  out.memory_accounted = MemoryAccount::Total();
  out.memory_high_water = memory_guard_.high();
  out.memory_low_water = memory_guard_.low();
  out.memory_overloaded = memory_overloaded();
  out.retained = retained_.size();
  {
    absl::MutexLock lock(&routes_mu_);
    out.routes = route_refs_.size();
  }
  return out;
}

}  // namespace meshmq::broker
