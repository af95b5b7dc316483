// Start-up with a store: retained messages and persistent sessions come back before any client
// connects. Runs on the starting thread before the shard threads exist.
#include <algorithm>
#include <functional>

#include <spdlog/spdlog.h>

#include "broker/broker.h"
#include "broker/shard.h"

namespace meshmq::broker {

size_t Broker::Restore(LoadedData data) {
  int64_t now = NowMs();
  size_t retained = 0;
  for (auto& msg : data.retained) {
    if (msg->expiry_at_ms && *msg->expiry_at_ms <= now) continue;  // expired while we were down
    retained += retained_.SetIfNewer(std::move(msg)) ? 1 : 0;
  }
  size_t sessions = 0;
  uint64_t max_seq = 0;
  for (const auto& loaded : data.sessions) {
    for (const auto& e : loaded.state.inflight) max_seq = std::max(max_seq, e.delivery.store_seq);
    for (const auto& d : loaded.state.queue) max_seq = std::max(max_seq, d.store_seq);
  }
  next_store_seq_ = max_seq + 1;
  for (auto& loaded : data.sessions) {
    // Any shard would do (a reconnecting client's shard takes it over); hashing spreads them.
    std::string id = loaded.meta.client_id;
    int shard = static_cast<int>(std::hash<std::string>{}(id) % shards_.size());
    shards_[shard]->RestoreSession(std::move(loaded));
    sessions += shards_[shard]->FindSession(id) != nullptr ? 1 : 0;
  }
  // Sessions that expired while the node was down were deleted: write that now.
  if (storage_ != nullptr) {
    for (int i = 0; i < shard_count(); ++i) storage_->Commit(i);
  }
  spdlog::info("storage: restored {} retained messages and {} persistent sessions", retained,
               sessions);
  return sessions;
}

void Shard::RestoreSession(LoadedSession loaded) {
  const StoredSessionMeta& meta = loaded.meta;
  Session& session = CreateSession(meta.client_id);
  std::vector<StoredSubscription> subs = std::move(loaded.state.subscriptions);
  session.Import(std::move(loaded.state));
  session.version = meta.version;
  session.expiry_interval_s = meta.expiry_interval_s;
  session.stored = true;
  uint16_t max_packet_id = 0;
  for (const auto& e : session.inflight) max_packet_id = std::max(max_packet_id, e.packet_id);
  session.next_packet_id = max_packet_id == 0xFFFF ? 1 : max_packet_id + 1;
  Add(stats_.inflight, static_cast<int64_t>(session.inflight.size()));
  session.registry_token = broker_.registry().Acquire(meta.client_id, index_).token;
  // Subscriptions go into the index (and announce routes to the other shards and the cluster),
  // so messages published before the client returns are queued for it.
  for (const auto& sub : subs) {
    session.subscriptions.InsertOrAssign(sub);
    AddSubscriber(session, sub);
  }
  if (session.expiry_interval_s == 0xFFFFFFFFu) return;  // never expires
  // A session whose client was online at the crash starts its interval now.
  int64_t interval_ms = int64_t(session.expiry_interval_s) * 1000;
  int64_t left_ms = meta.disconnected_at_ms == 0
                        ? interval_ms
                        : meta.disconnected_at_ms + interval_ms - NowMs();
  if (left_ms <= 0) {
    DestroySession(session, /*release_id=*/true);  // expired while the node was down
    return;
  }
  ScheduleExpiry(session, std::chrono::milliseconds(left_ms));
}

}  // namespace meshmq::broker
