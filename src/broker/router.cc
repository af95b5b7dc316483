// Shard::Route: the publish path. Matches the shard's own index, then posts one task per other
// interested shard and hands the message once per interested node to the cluster.
#include <algorithm>
#include <bit>
#include <chrono>
#include <utility>

#include <boost/asio/post.hpp>

#include "absl/container/inlined_vector.h"
#include <spdlog/spdlog.h>

#include "broker/broker.h"
#include "broker/client.h"
#include "broker/shard.h"
#include "codec/topic_rules.h"

namespace meshmq::broker {

namespace {

// Where one shared group can take a message: this shard, other shards, other nodes.
struct GroupCandidates {
  std::string group;
  size_t local = 0;                         // members on this shard
  std::vector<std::pair<int, int>> shards;  // (shard, members there)
  std::vector<std::string> nodes;           // each node counts as one
};

std::string SharedKey(std::string_view group, std::string_view inner) {
  std::string key;
  key.reserve(8 + group.size() + inner.size());
  key.append("$share/").append(group).push_back('/');
  key.append(inner);
  return key;
}

bool Wanted(const RouteScope& scope, const std::string& key) {
  if (scope.all_shared) return true;
  return std::find(scope.shared_filters.begin(), scope.shared_filters.end(), key) !=
         scope.shared_filters.end();
}

}  // namespace

bool Shard::Route(const MessagePtr& msg, const RouteScope& scope, StoreWait* wait) {
  if (route_inbox_.HasChanges()) ApplyRouteInbox();  // subscribes other shards already answered
  bool delivered = false;
  const int n = broker_.shard_count();
  // Inline storage: no heap allocation per publish for up to 16 shards.
  absl::InlinedVector<char, 16> shard_plain;
  absl::InlinedVector<std::vector<std::string>, 16> shard_shared;
  if (scope.include_shards && n > 1) {
    shard_plain.assign(n, 0);
    shard_shared.resize(n);
  }
  // Inline: a publish that crosses to a node or two allocates nothing for the bookkeeping.
  absl::InlinedVector<std::pair<std::string, std::vector<std::string>>, 2> node_targets;
  absl::InlinedVector<std::string, 2> node_plain;
  absl::flat_hash_map<std::string, GroupCandidates> groups;

  // One walk of the local trie collects both the ordinary subscribers and the shared groups
  // (it used to be walked twice per publish).
  matches_.clear();
  // The filter (`inner`) is rebuilt only for shared groups: ordinary matches never need it.
  local_.Match(msg->topic, [&](const auto& inner, LocalSubscribers& entry) {
    if (scope.to_subscribers) CollectPlain(*msg, entry);
    for (auto& [group, members] : entry.shared) {
      std::string key = SharedKey(group, inner.str());
      if (!Wanted(scope, key)) continue;
      auto& g = groups[key];
      g.group = group;
      g.local = members.size();
    }
  });
  if (scope.to_subscribers) delivered |= DeliverMatches(msg);
  if (!shard_plain.empty() && scope.to_subscribers) {
    // Exact filters of other shards: one probe (a false positive only posts a needless task).
    for (uint64_t mask = shard_exact_.Match(msg->topic); mask != 0; mask &= mask - 1) {
      shard_plain[std::countr_zero(mask)] = 1;
    }
  }
  if (!shard_plain.empty() && !shard_routes_.empty()) {
    shard_routes_.Match(msg->topic, [&](const auto& inner, RouteTargets<int>& entry) {
      if (scope.to_subscribers) {
        for (int s : entry.plain) shard_plain[s] = 1;
      }
      for (auto& [group, shards] : entry.shared) {
        std::string key = SharedKey(group, inner.str());
        if (!Wanted(scope, key)) continue;
        auto& g = groups[key];
        g.group = group;
        for (const auto& w : shards) g.shards.emplace_back(w.target, w.members);
      }
    });
  }
  ClusterPort* cluster = broker_.cluster();
  if (scope.include_remote && cluster != nullptr) {
    // Other nodes' exact filters: one probe (a false positive forwards a message the other node
    // then matches against nobody).
    for (uint64_t mask = node_exact_.Match(msg->topic); mask != 0; mask &= mask - 1) {
      const std::string& node = node_slots_[std::countr_zero(mask)];
      if (std::find(node_plain.begin(), node_plain.end(), node) == node_plain.end()) {
        node_plain.push_back(node);
      }
    }
    if (!remote_routes_.empty()) remote_routes_.Match(msg->topic, [&](const auto& inner,
                                         RouteTargets<std::string>& entry) {
      for (const auto& node : entry.plain) {
        if (std::find(node_plain.begin(), node_plain.end(), node) == node_plain.end()) {
          node_plain.push_back(node);
        }
      }
      for (auto& [group, nodes] : entry.shared) {
        std::string key = SharedKey(group, inner.str());
        auto& g = groups[key];
        g.group = group;
        for (const auto& w : nodes) RouteTargets<std::string>::AddTo(g.nodes, w.target);
      }
    });
  }

  // Pickers hold only a counter; forget them all now and then so churned group names can't
  // grow the map without bound.
  if (pickers_.size() > 4096) pickers_.clear();
  // One member per shared group, anywhere in the cluster [MQTT-4.8.2]: one pick over every
  // member this shard knows of, so round robin is even across members, not across shards.
  for (auto& [key, g] : groups) {
    size_t count = g.local + g.nodes.size();
    for (const auto& [s, members] : g.shards) count += members;
    if (count == 0) continue;
    auto picker = pickers_.try_emplace(key, broker_.options().shared_strategy, index_).first;
    size_t pick = picker->second.Pick(count, msg->origin_client_id);
    if (pick < g.local) {
      delivered |= DeliverToSharedMember(msg, key, g.group, pick);
      continue;
    }
    pick -= g.local;
    bool placed = false;
    for (const auto& [s, members] : g.shards) {
      if (pick < static_cast<size_t>(members)) {
        shard_shared[s].push_back(key);
        placed = true;
        break;
      }
      pick -= members;
    }
    delivered = true;
    if (placed) continue;
    const std::string& node = g.nodes[pick];
    auto it = std::find_if(node_targets.begin(), node_targets.end(),
                           [&](const auto& t) { return t.first == node; });
    if (it == node_targets.end()) {
      node_targets.push_back({node, {}});
      it = node_targets.end() - 1;
    }
    it->second.push_back(key);
  }

  // Kept a moment for a subscription another shard announces late (late_routes.cc).
  if (!shard_plain.empty() && scope.to_subscribers && scope.note_for_late_routes) {
    uint64_t sent = 0;
    for (int s = 0; s < static_cast<int>(shard_plain.size()) && s < 64; ++s) {
      if (shard_plain[s]) sent |= uint64_t{1} << s;
    }
    NoteRouted(msg, sent);
  }
  for (int s = 0; s < static_cast<int>(shard_plain.size()); ++s) {
    if (s == index_ || (!shard_plain[s] && shard_shared[s].empty())) continue;
    delivered = true;
    Inc(stats().handoffs);
    RouteScope sub;
    sub.include_remote = false;
    sub.include_shards = false;
    sub.to_subscribers = shard_plain[s] != 0;
    sub.all_shared = false;
    sub.shared_filters = std::move(shard_shared[s]);
    Shard& other = broker_.shard(s);
    if (batching_ && wait == nullptr) {
      if (handoff_.empty()) handoff_.resize(n);
      handoff_[s].emplace_back(msg, std::move(sub));  // posted when the HandoffBatch closes
      continue;
    }
    if (batching_) PostHandoffs(s);  // what was collected for that shard goes first
    if (wait == nullptr || msg->qos == 0) {
      boost::asio::post(other.io(), [&other, msg, sub = std::move(sub)] { other.Route(msg, sub); });
      continue;
    }
    // The publisher's ack waits until the other shard has committed what it queued.
    ++wait->shards;
    boost::asio::post(other.io(), [&other, origin = index_, client = wait->client,
                                   ticket = wait->ticket, msg, sub = std::move(sub)] {
      other.Route(msg, sub);
      other.ConfirmAfterCommit(origin, client, ticket);
    });
  }

  for (const auto& node : node_plain) {
    auto it = std::find_if(node_targets.begin(), node_targets.end(),
                           [&](const auto& t) { return t.first == node; });
    if (it == node_targets.end()) node_targets.push_back({node, {}});
  }
  for (auto& [node, shared] : node_targets) {
    bool plain = std::find(node_plain.begin(), node_plain.end(), node) != node_plain.end();
    cluster->Forward(node, msg, plain, std::move(shared), [](bool) {});
    delivered = true;
  }
  return delivered;
}

void Shard::RouteForwarded(std::vector<RemoteDelivery>& part, const UnbuiltMessages* unbuilt,
                           ForwardPlacement* placement) {
  // A forwarded batch hands about half its messages to the other shard in a 1:1 load.
  HandoffBatch batch(*this);
  const int n = broker_.shard_count();
  absl::InlinedVector<size_t, 16> before(n);
  std::vector<std::pair<size_t, uint8_t>> proposals;
  for (RemoteDelivery& d : part) {
    if (d.msg == nullptr) {
      d.msg = unbuilt->Build(d.unbuilt);
      ChargeMemory(*d.msg);
    }
    RouteScope scope;
    scope.include_remote = false;  // a forwarded message is never forwarded again
    scope.note_for_late_routes = false;
    scope.to_subscribers = d.to_subscribers;
    scope.all_shared = false;
    const bool plain_only = d.shared_filters.empty();
    scope.shared_filters = std::move(d.shared_filters);
    for (int s = 0; s < n; ++s) {
      before[s] = s < static_cast<int>(handoff_.size()) ? handoff_[s].size() : 0;
    }
    Route(d.msg, scope);
    if (placement == nullptr || !plain_only || !d.to_subscribers || !matches_.empty()) continue;
    // Nobody here: if exactly one other shard took it, that shard should get the topic first.
    int target = -1;
    for (int s = 0; s < n && s < static_cast<int>(handoff_.size()); ++s) {
      if (handoff_[s].size() <= before[s]) continue;  // (a flush only ever empties a list)
      target = target == -1 ? s : -2;
    }
    if (target < 0 || target >= 255) continue;
    const size_t hash = std::hash<std::string_view>{}(d.msg->topic);
    if (placement->Places(hash, static_cast<size_t>(target))) continue;
    if (proposals.empty() || proposals.back().first != hash) {
      proposals.emplace_back(hash, static_cast<uint8_t>(target));
    }
  }
  // The placement's order rule (forward_placement.h) needs this part's hand-offs posted before
  // the caller reports the part done, also if a batch is open around this call.
  FlushHandoffs();
  if (placement != nullptr) placement->Propose(proposals);
}

Shard::HandoffBatch::~HandoffBatch() {
  if (!outer_) return;
  shard_.batching_ = false;
  shard_.FlushHandoffs();
}

void Shard::FlushHandoffs() {
  for (int s = 0; s < static_cast<int>(handoff_.size()); ++s) PostHandoffs(s);
}

void Shard::PostHandoffs(int shard) {
  if (shard >= static_cast<int>(handoff_.size()) || handoff_[shard].empty()) return;
  Shard& other = broker_.shard(shard);
  std::vector<Handoff>& items = handoff_[shard];
  if (items.size() == 1) {  // the common case at moderate rates: no list to allocate
    boost::asio::post(other.io(), [&other, item = std::move(items.front())] {
      other.Route(item.first, item.second);
    });
    items.clear();
    return;
  }
  boost::asio::post(other.io(), [&other, items = std::exchange(items, {})] {
    for (const auto& [msg, scope] : items) other.Route(msg, scope);
  });
}

void Shard::CollectPlain(const Message& msg, const LocalSubscribers& entry) {
  for (const auto& [session, options] : entry.plain) {
    // No Local: never back to the publishing client [MQTT-3.8.3-3].
    if (options.no_local && session->client_id == msg.origin_client_id) continue;
    if (!MayDeliver(*session, options, msg.topic)) continue;
    matches_.emplace_back(session, options);
  }
}

bool Shard::DeliverMatches(const MessagePtr& msg) {
  if (matches_.empty()) return false;
  if (matches_.size() > 1) {
    std::sort(matches_.begin(), matches_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  // Overlapping subscriptions of one session: one copy, the highest QoS, every identifier
  // [MQTT-3.3.4-2], [MQTT-3.3.4-3].
  for (size_t i = 0; i < matches_.size();) {
    Session* session = matches_[i].first;
    Delivery d;
    d.msg = msg;
    uint8_t qos = 0;
    bool retain = false;
    for (; i < matches_.size() && matches_[i].first == session; ++i) {
      const SubOptions& o = matches_[i].second;
      qos = std::max(qos, o.qos);
      retain |= o.retain_as_published && msg->retain;
      if (o.subscription_id != 0) d.subscription_ids.push_back(o.subscription_id);
    }
    d.qos = std::min(qos, msg->qos);
    d.retain = retain;
    if (!retained_sent_.empty() && WasSentRetained(session, msg.get())) continue;
    Deliver(*session, std::move(d));
  }
  return true;
}

namespace {
constexpr int64_t kRetainedSentMs = 1000;  // far longer than a route takes to reach a shard
constexpr size_t kRetainedSentMax = 4096;
int64_t MonotonicMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}
}  // namespace

void Shard::NoteRetainedSent(const Session& session, const MessagePtr& msg) {
  if (broker_.shard_count() < 2) return;  // one shard: publish and subscribe never overlap
  if (retained_sent_.size() >= kRetainedSentMax) retained_sent_.pop_front();
  retained_sent_.push_back({&session, msg, MonotonicMs()});
}

bool Shard::WasSentRetained(const Session* session, const Message* msg) {
  int64_t now = MonotonicMs();
  while (!retained_sent_.empty() && now - retained_sent_.front().at_ms > kRetainedSentMs) {
    retained_sent_.pop_front();
  }
  for (const RetainedSent& r : retained_sent_) {
    if (r.session == session && r.msg.get() == msg) return true;
  }
  return false;
}

bool Shard::DeliverToSharedMember(const MessagePtr& msg, const std::string& key,
                                  const std::string& group, std::optional<size_t> pick) {
  std::string_view g, inner;
  if (!codec::ParseSharedFilter(key, g, inner)) return false;
  LocalSubscribers* entry = local_.Find(inner);
  if (entry == nullptr) return false;
  auto it = entry->shared.find(group);
  if (it == entry->shared.end() || it->second.empty()) {
    stats_.Drop(DropReason::kNoSubscribers);
    return false;
  }
  auto& members = it->second;
  // Prefer a member that is online; an offline persistent member queues the message.
  size_t start = 0;
  if (pick && *pick < members.size()) {
    start = *pick;
  } else {
    auto picker = pickers_.try_emplace(key, broker_.options().shared_strategy, index_).first;
    start = picker->second.Pick(members.size(), msg->origin_client_id);
  }
  size_t chosen = start;
  for (size_t k = 0; k < members.size(); ++k) {
    size_t idx = (start + k) % members.size();
    if (members[idx].session->client != nullptr) {
      chosen = idx;
      break;
    }
  }
  SharedMember& m = members[chosen];
  if (!MayDeliver(*m.session, m.options, msg->topic)) return false;  // counted there
  Delivery d;
  d.msg = msg;
  d.qos = std::min(m.options.qos, msg->qos);
  d.retain = m.options.retain_as_published && msg->retain;
  if (m.options.subscription_id != 0) d.subscription_ids.push_back(m.options.subscription_id);
  Deliver(*m.session, std::move(d));
  return true;
}

void Shard::Deliver(Session& session, Delivery delivery, bool passed_on) {
  if ((passed_on || (session.rare() && (session.moved() || session.rare()->move_dedup))) &&
      !AdmitAfterMove(session, delivery, passed_on)) {
    return;  // passed on to the session's new node, or a copy already delivered (session_move.cc)
  }
  if (broker_.hooks().delivers() && !DeliverHooks(session, delivery)) return;
  Client* client = session.client;
  if (client != nullptr && client->state() == Client::State::kConnected) {
    if (delivery.qos == 0) {
      client->SendDelivery(std::move(delivery));
      return;
    }
    if (session.queue.empty() && client->CanSendQos()) {
      client->SendDelivery(std::move(delivery));
      return;
    }
  } else if (delivery.qos == 0) {
    return;  // QoS 0 is not queued for offline sessions (as Mosquitto's default)
  }
  if (session.queue.size() >= broker_.options().max_queued_messages) {
    stats_.Drop(DropReason::kQueueFull);
    if ((stats_.dropped[static_cast<int>(DropReason::kQueueFull)].load() & 1023) == 1) {
      spdlog::warn("session {}: queue full ({} messages), dropping", session.client_id,
                   session.queue.size());
    }
    return;
  }
  StoreMessage(session, 0, false, delivery);
  session.queue.push_back(std::move(delivery));
}

}  // namespace meshmq::broker
