// Shard: connections, sessions and the subscription index of one worker thread.
#include "broker/shard.h"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "broker/broker.h"
#include "broker/client.h"
#include "broker/message_builder.h"
#include "broker/receive_time.h"
#include "codec/topic_rules.h"

namespace meshmq::broker {

namespace {

// Splits "$share/g/f" into ("g", "f"); an ordinary filter gives ("", filter).
std::pair<std::string, std::string> SplitFilter(const std::string& filter) {
  std::string_view group, inner;
  if (codec::ParseSharedFilter(filter, group, inner)) return {std::string(group), std::string(inner)};
  return {std::string(), filter};
}

SubOptions OptionsOf(const StoredSubscription& sub) {
  SubOptions o;
  o.qos = sub.request.qos;
  o.no_local = sub.request.no_local;
  o.retain_as_published = sub.request.retain_as_published;
  o.subscription_id = sub.subscription_id;
  return o;
}

}  // namespace

Shard::Shard(Broker& broker, int index, boost::asio::io_context& io)
    : broker_(broker),
      index_(index),
      io_(io),
      deadlines_(io, [this](uint64_t id, DeadlineQueue::Clock::time_point deadline) {
        if (Client* client = FindClient(id)) client->OnDeadline(deadline);
      }) {}

Shard::~Shard() = default;

void Shard::AddClient(Client* client) { clients_[client->id()] = client; }
void Shard::RemoveClient(Client* client) { clients_.erase(client->id()); }
Client* Shard::FindClient(uint64_t id) {
  auto it = clients_.find(id);
  return it == clients_.end() ? nullptr : it->second;
}

Session* Shard::FindSession(const std::string& client_id) {
  auto it = sessions_.find(std::string_view(client_id));
  return it == sessions_.end() ? nullptr : it->get();
}

Session& Shard::CreateSession(const std::string& client_id) {
  if (Session* old = FindSession(client_id); old != nullptr && old->moved()) {
    DestroySession(*old, /*release_id=*/false);  // the client came back before the tombstone ended
  }
  auto session = std::make_unique<Session>(client_id, io_);
  Session& ref = *session;
  // Found through the session's own client_id (no second copy of the string).
  if (auto it = sessions_.find(std::string_view(client_id)); it != sessions_.end()) {
    sessions_.erase(it);
  }
  sessions_.insert(std::move(session));
  Add(stats_.sessions, 1);
  Add(stats_.sessions_offline, 1);
  return ref;
}

void Shard::DestroySession(Session& session, bool release_id) {
  // First, so the unsubscribes below write nothing more (DeleteSession covers them).
  UnstoreSession(session);
  std::vector<std::string> filters;
  for (const auto& [filter, sub] : session.subscriptions) filters.push_back(filter);
  for (const auto& filter : filters) Unsubscribe(session, filter);
  if (codec::Will* will = session.pending_will()) {
    // The session ends before the will delay does: the will goes now [MQTT-3.1.3-9].
    PublishWill(*will, session.client_id);
    session.rare()->pending_will.reset();
  }
  if (release_id) broker_.registry().Release(session.client_id, session.registry_token);
  if (session.client == nullptr) Add(stats_.sessions_offline, -1);
  Add(stats_.inflight, -static_cast<int64_t>(session.inflight.size()));
  Add(stats_.sessions, -1);
  auto it = sessions_.find(std::string_view(session.client_id));
  if (it != sessions_.end()) sessions_.erase(it);  // destroys `session`
}

SessionState Shard::ExtractSession(Session& session) {
  UnstoreSession(session);  // while its messages are still here to name their keys
  SessionState state = session.Export();
  session.inflight.clear();
  session.queue.clear();
  // The new owner takes the pending will (in `state`): it is cancelled there if the client
  // resumes the session and sent if the session ends.
  if (SessionRare* rare = session.rare()) {
    rare->pending_will.reset();
    rare->will_timer.cancel();
  }
  DestroySession(session, /*release_id=*/false);
  // The new owner stores the session again; our delete must be written before its writes can be.
  CommitNow();
  return state;
}

void Shard::ScheduleExpiry(Session& session, std::optional<std::chrono::milliseconds> after) {
  if (session.expiry_interval_s == 0xFFFFFFFFu) return;  // never expires
  LazyTimer& timer = session.Rare().expiry_timer;
  timer.expires_after(after.value_or(std::chrono::seconds(session.expiry_interval_s)));
  std::string id = session.client_id;
  timer.async_wait([this, id](const boost::system::error_code& ec) {
    if (!ec) OnSessionExpired(id);
  });
}

void Shard::OnSessionExpired(const std::string& client_id) {
  Session* session = FindSession(client_id);
  if (session == nullptr || session->client != nullptr) return;
  spdlog::debug("session {} expired", client_id);
  DestroySession(*session, /*release_id=*/true);
  if (!broker_.hooks().empty()) broker_.hooks().SessionExpired(client_id);
}

void Shard::PublishWill(const codec::Will& will, const std::string& client_id) {
  auto msg = std::make_shared<Message>();
  msg->topic = will.topic;
  msg->payload = will.payload;
  msg->qos = will.qos;
  msg->retain = will.retain;
  msg->set_properties(PassThroughProperties(will.properties));
  if (will.properties.message_expiry_interval) {
    msg->expiry_at_ms = NowMs() + int64_t(*will.properties.message_expiry_interval) * 1000;
  }
  msg->origin_client_id = client_id;
  msg->origin_node = broker_.options().node_id;
  msg->timestamp_ms = NowMs();
  ChargeMemory(*msg);
  if (msg->retain) broker_.StoreRetained(msg, true, index_);
  RouteScope scope;
  Route(msg, scope);
  if (!broker_.hooks().empty()) broker_.hooks().WillSent(client_id, ViewOf(*msg, msg->qos));
}

bool Shard::Subscribe(Session& session, const StoredSubscription& sub) {
  bool inserted = session.subscriptions.InsertOrAssign(sub);
  AddSubscriber(session, sub);
  if (session.stored) Batch()->PutSubscription(index_, session.client_id, sub);
  return !inserted;
}

bool Shard::Unsubscribe(Session& session, const std::string& filter) {
  if (!session.subscriptions.Erase(filter)) return false;
  if (session.stored) Batch()->DeleteSubscription(index_, session.client_id, filter);
  RemoveSubscriber(session, filter);
  return true;
}

void Shard::AnnounceRoute(const std::string& filter, bool add, bool node_level) {
  for (int i = 0; i < broker_.shard_count(); ++i) {
    if (i == index_) continue;
    Shard& other = broker_.shard(i);
    // Visible to the other shard's next publish at once (before our SUBACK goes out); the task
    // only makes an idle shard apply it.
    if (other.route_inbox_.Push({index_, filter, add, add ? ReceiveTime::Current() : 0})) {
      boost::asio::post(other.io(), [&other] { other.ApplyRouteInbox(); });
    }
  }
  if (node_level) broker_.RouteRef(filter, add ? 1 : -1);
}

void Shard::AddSubscriber(Session& session, const StoredSubscription& sub) {
  auto [group, inner] = SplitFilter(sub.request.filter);
  LocalSubscribers& entry = local_.GetOrCreate(inner);
  SubOptions options = OptionsOf(sub);
  options.acl_all_generation = AclAllGeneration(session, sub.request.filter);
  if (group.empty()) {
    bool first = entry.plain.empty();
    auto [it, inserted] = entry.plain.insert_or_assign(&session, options);
    if (inserted) Add(stats_.subscriptions, 1);
    if (first) AnnounceRoute(inner, true, true);
    return;
  }
  auto& members = entry.shared[group];
  bool first = members.empty();
  for (auto& m : members) {
    if (m.session == &session) {
      m.options = options;
      return;
    }
  }
  members.push_back(SharedMember{&session, options});
  Add(stats_.shared_subscriptions, 1);
  // Other shards count each member (even picks); the cluster hears of the group once.
  AnnounceRoute(sub.request.filter, true, first);
}

void Shard::RemoveSubscriber(Session& session, const std::string& filter) {
  auto [group, inner] = SplitFilter(filter);
  LocalSubscribers* entry = local_.Find(inner);
  if (entry == nullptr) return;
  if (group.empty()) {
    if (entry->plain.erase(&session) > 0) {
      Add(stats_.subscriptions, -1);
      if (entry->plain.empty()) AnnounceRoute(inner, false, true);
    }
  } else {
    auto it = entry->shared.find(group);
    if (it != entry->shared.end()) {
      auto& members = it->second;
      auto before = members.size();
      std::erase_if(members, [&](const SharedMember& m) { return m.session == &session; });
      if (members.size() != before) {
        Add(stats_.shared_subscriptions, -1);
        AnnounceRoute(filter, false, members.empty());
      }
      if (members.empty()) entry->shared.erase(it);
    }
  }
  if (entry->empty()) local_.Erase(inner);
}

void Shard::ApplyRouteInbox() {
  for (auto& change : route_inbox_.Take()) {
    ApplyShardRoute(change.from_shard, change.filter, change.add);
    if (change.subscribed_ns != 0) CatchUpRoute(change.from_shard, change.filter, change.subscribed_ns);
  }
}

void Shard::ApplyShardRoute(int shard, const std::string& filter, bool add) {
  if (shard < ExactRoutes::kMaxShards && ExactRoutes::IsExact(filter)) {
    if (add) {
      shard_exact_.Add(filter, shard);
    } else {
      shard_exact_.Remove(filter, shard);
    }
    return;
  }
  auto [group, inner] = SplitFilter(filter);
  if (add) {
    shard_routes_.GetOrCreate(inner).Add(group, shard);
    return;
  }
  if (auto* entry = shard_routes_.Find(inner)) {
    entry->Remove(group, shard, /*all=*/false);
    if (entry->empty()) shard_routes_.Erase(inner);
  }
}

int Shard::NodeSlot(const std::string& node) {
  // Decided at the node's first filter and kept until its last is gone (-1 included: a node
  // that found no free slot keeps all its filters in the trie, so none is looked for elsewhere).
  auto [it, inserted] = node_slot_of_.try_emplace(node, -1);
  if (!inserted) return it->second;
  int slot = 0;
  while (slot < static_cast<int>(node_slots_.size()) && !node_slots_[slot].empty()) ++slot;
  if (slot >= ExactRoutes::kMaxShards) return -1;
  if (slot == static_cast<int>(node_slots_.size())) node_slots_.emplace_back();
  node_slots_[slot] = node;
  it->second = slot;
  return slot;
}

void Shard::ReleaseNodeSlot(const std::string& node) {
  auto it = node_slot_of_.find(node);
  if (it == node_slot_of_.end()) return;
  if (it->second >= 0) node_slots_[it->second].clear();
  node_slot_of_.erase(it);
}

void Shard::ApplyRemoteRoute(const std::string& node, const std::string& filter, bool add) {
  if (!add) {
    auto it = remote_filters_.find(node);
    if (it == remote_filters_.end() || std::erase(it->second, filter) == 0) return;
    UnindexRemoteFilter(node, filter);
    if (it->second.empty()) {
      remote_filters_.erase(it);
      ReleaseNodeSlot(node);
    }
    return;
  }
  auto& filters = remote_filters_[node];
  // Idempotent: a snapshot may repeat routes we already have.
  if (std::find(filters.begin(), filters.end(), filter) != filters.end()) return;
  filters.push_back(filter);
  // The slot stays the node's while it has filters, so a filter leaves the index it entered.
  const int slot = ExactRoutes::IsExact(filter) ? NodeSlot(node) : -1;
  if (slot >= 0) {
    node_exact_.Add(filter, slot);
    return;
  }
  auto [group, inner] = SplitFilter(filter);
  remote_routes_.GetOrCreate(inner).Add(group, node);
}

void Shard::UnindexRemoteFilter(const std::string& node, const std::string& filter) {
  if (ExactRoutes::IsExact(filter)) {
    auto it = node_slot_of_.find(node);
    if (it != node_slot_of_.end() && it->second >= 0) {
      node_exact_.Remove(filter, it->second);
      return;
    }
  }
  auto [group, inner] = SplitFilter(filter);
  if (auto* entry = remote_routes_.Find(inner)) {
    entry->Remove(group, node);
    if (entry->empty()) remote_routes_.Erase(inner);
  }
}

void Shard::DropNode(const std::string& node) {
  auto it = remote_filters_.find(node);
  if (it == remote_filters_.end()) return;
  std::vector<std::string> filters = std::move(it->second);
  remote_filters_.erase(it);
  for (const auto& filter : filters) UnindexRemoteFilter(node, filter);
  ReleaseNodeSlot(node);
}

size_t Shard::RemoteRouteCount() const {
  size_t n = 0;
  for (const auto& [node, filters] : remote_filters_) n += filters.size();
  return n;
}

}  // namespace meshmq::broker
