// Persistence on a shard: which session changes reach the store, and the group commit that lets
// acknowledgements leave only once what they acknowledge was written (docs/storage.md).
//
// Mutations go into the shard's batch in the StoragePort; the first one of a turn posts a commit
// to the shard's own io_context, so it runs after every handler that was ready in this turn: one
// write per shard per turn, however many clients published. Acks (PUBACK, PUBREC, PUBCOMP) are
// held by their Client until that commit, and for messages handed to other shards until those
// shards confirmed their own commit.
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "broker/broker.h"
#include "broker/client.h"
#include "broker/shard.h"

namespace meshmq::broker {

namespace {

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
  if (store != nullptr) ScheduleCommit();
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
  Batch()->DeleteMessage(index_, session.client_id, delivery.store_seq);
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
