// Persistence on a shard: which session changes reach the store, and the group commit that lets
// acknowledgements leave only once what they acknowledge was written (docs/storage.md).
//
// Mutations go into the shard's batch in the StoragePort; the first one of a turn posts a commit
// to the shard's own io_context, so it runs after every handler that was ready in this turn: one
// write per shard per turn, however many clients published. Acks (PUBACK, PUBREC, PUBCOMP) are
// held by their Client until that commit, and for messages handed to other shards until those
// shards confirmed their own commit.
#include <algorithm>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "broker/broker.h"
#include "broker/client.h"
#include "broker/shard.h"

namespace meshmq::broker {

namespace {

// A shard whose recent commits held at least this many store mutations is busy: its next commit
// waits for the commit delay. Fewer (a lone publisher, a subscribe) commit in the same turn, so
// a light load sees no added latency.
constexpr uint32_t kBusyOps = 64;
constexpr uint32_t kMaxDelayedOps = 8192;

StoredSessionMeta MetaOf(const Session& session) {
  StoredSessionMeta meta;
  meta.client_id = session.client_id;
  meta.version = session.version;
  meta.expiry_interval_s = session.expiry_interval_s;
  meta.disconnected_at_ms = session.client == nullptr ? NowMs() : 0;
  return meta;
}

}  // namespace

StoragePort* Shard::Batch() {
  StoragePort* store = broker_.storage();
  if (store != nullptr) {
    ScheduleCommit();
    // A batch this large is written without waiting for the delay any longer.
    if (++ops_since_commit_ == kMaxDelayedOps && commit_delayed_) {
      PostCommit();
    }
  }
  return store;
}

void Shard::SyncSessionToStore(Session& session) {
  if (broker_.storage() == nullptr) return;
  if (session.expiry_interval_s == 0) {
    // The session now ends with its connection [MQTT-3.1.2-5]: nothing of it may come back.
    UnstoreSession(session);
    return;
  }
  StoragePort* store = Batch();
  store->PutSession(index_, MetaOf(session));
  if (session.stored) return;
  // First write of this session here (new, or moved from another shard or node): all of it,
  // under fresh message keys.
  session.stored = true;
  for (const auto& [filter, sub] : session.subscriptions) {
    store->PutSubscription(index_, session.client_id, sub);
  }
  for (auto& entry : session.inflight) {
    entry.delivery.store_seq = broker_.NextStoreSeq();
    store->PutMessage(index_, session.client_id, entry.packet_id, entry.pubrec_received,
                      entry.delivery);
  }
  for (auto& delivery : session.queue) {
    delivery.store_seq = broker_.NextStoreSeq();
    store->PutMessage(index_, session.client_id, 0, false, delivery);
  }
  for (uint16_t id : session.incoming_qos2) store->PutIncomingQos2(index_, session.client_id, id);
}

void Shard::StoreMessage(Session& session, uint16_t packet_id, bool pubrec_received,
                         Delivery& delivery) {
  if (!session.stored || delivery.qos == 0) return;
  if (delivery.store_seq == 0) delivery.store_seq = broker_.NextStoreSeq();
  Batch()->PutMessage(index_, session.client_id, packet_id, pubrec_received, delivery);
}

void Shard::UnstoreMessage(Session& session, const Delivery& delivery) {
  if (!session.stored || delivery.store_seq == 0) return;
  StoragePort* store = Batch();
  store->DeleteMessage(index_, session.client_id, delivery.store_seq);
  // Every message of a delayed batch acked: commit now, the acks behind it need not wait.
  if (commit_delayed_ && store->PendingMessagePuts(index_) == 0) {
    PostCommit();
  }
}

void Shard::UnstoreSession(Session& session) {
  if (!session.stored) return;
  StoragePort* store = Batch();
  // Message keys are node-wide (not under the client id), so each is deleted by its key.
  for (const auto& entry : session.inflight) UnstoreMessage(session, entry.delivery);
  for (const auto& delivery : session.queue) UnstoreMessage(session, delivery);
  store->DeleteSession(index_, session.client_id);
  session.stored = false;
}

void Shard::ScheduleCommit() {
  if (commit_scheduled_) return;
  commit_scheduled_ = true;
  uint32_t delay_us = broker_.options().storage_commit_delay_us;
  if (delay_us == 0 || last_commit_ops_ < kBusyOps) {
    PostCommit();
    return;
  }
  // Under load a subscriber usually acks a message within a millisecond or two of its delivery;
  // if that ack comes before the commit, the store drops the message's put and delete together
  // (Store::DeleteMessage) and the message costs no write. The acks behind this commit wait for
  // it as always: nothing is acknowledged before it is written or already delivered and acked.
  commit_delayed_ = true;
  commit_timer_.expires_after(std::chrono::microseconds(delay_us));
  commit_timer_.async_wait([this, epoch = commit_epoch_](boost::system::error_code ec) {
    if (!ec && commit_scheduled_ && commit_epoch_ == epoch) CommitNow();
  });
}

void Shard::PostCommit() {
  commit_delayed_ = false;
  boost::asio::post(io_, [this] {
    if (commit_scheduled_) CommitNow();
  });
}

void Shard::ConfirmAfterCommit(int origin, uint64_t client, uint64_t ticket) {
  if (confirms_.empty()) confirms_.resize(broker_.shard_count());
  confirms_[origin].emplace_back(client, ticket);
  ScheduleCommit();
}

void Shard::WaitForCommit(uint64_t client_id) {
  ack_waiters_.push_back(client_id);
  ScheduleCommit();
}

void Shard::CommitNow() {
  commit_scheduled_ = false;
  commit_delayed_ = false;
  // Decays over a few commits rather than following the last one: the commits made early because
  // every message was acked (UnstoreMessage) are small even under load.
  last_commit_ops_ = std::max(ops_since_commit_, last_commit_ops_ - last_commit_ops_ / 8);
  ops_since_commit_ = 0;
  StoragePort* store = broker_.storage();
  if (store == nullptr) return;
  bool ok = store->Commit(index_);
  ++commit_epoch_;
  for (int origin = 0; origin < static_cast<int>(confirms_.size()); ++origin) {
    if (confirms_[origin].empty()) continue;
    Shard* to = &broker_.shard(origin);
    boost::asio::post(to->io(), [to, ok, confirms = std::move(confirms_[origin])] {
      for (const auto& [client, ticket] : confirms) {
        if (Client* c = to->FindClient(client)) c->OnRemoteStored(ticket, ok);
      }
    });
    confirms_[origin].clear();
  }
  // Swapped out first: releasing an ack may schedule the next commit.
  std::vector<uint64_t> waiters;
  waiters.swap(ack_waiters_);
  for (uint64_t id : waiters) {
    Client* client = FindClient(id);
    if (client == nullptr) continue;
    if (ok) {
      client->ReleaseAcks();
    } else {
      // Never acknowledge what was not stored: the client resends it after reconnecting.
      client->CloseWith(codec::ReasonCode::kUnspecifiedError);
    }
  }
}

}  // namespace meshmq::broker
