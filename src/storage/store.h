// The broker's StoragePort over a KvEngine: encodes sessions, subscriptions, messages and retained
// messages as records (store_keys.h) and keeps one batch per shard for group commit.
//
// Thread safety: the mutations and Commit for shard i run only on shard i's thread (each touches
// only batches_[i]); PutRetained/DeleteRetained with shard -1 write at once from any thread; Load
// runs once before the shards start.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"

#include "broker/storage_port.h"
#include "storage/kv_engine.h"

namespace meshmq::storage {

class Store final : public broker::StoragePort {
 public:
  Store(std::unique_ptr<KvEngine> engine, int shards);

  void PutSession(int shard, const broker::StoredSessionMeta& meta) override;
  void DeleteSession(int shard, const std::string& client_id) override;
  void PutSubscription(int shard, const std::string& client_id,
                       const broker::StoredSubscription& sub) override;
  void DeleteSubscription(int shard, const std::string& client_id,
                          const std::string& filter) override;
  void PutMessage(int shard, const std::string& client_id, uint16_t packet_id,
                  bool pubrec_received, const broker::Delivery& delivery) override;
  void DeleteMessage(int shard, const std::string& client_id, uint64_t seq) override;
  void PutIncomingQos2(int shard, const std::string& client_id, uint16_t packet_id) override;
  void DeleteIncomingQos2(int shard, const std::string& client_id, uint16_t packet_id) override;
  void PutRetained(int shard, const broker::MessagePtr& msg) override;
  void DeleteRetained(int shard, const std::string& topic) override;
  bool Commit(int shard) override;
  bool HasPending(int shard) const override;
  size_t PendingMessagePuts(int shard) const override { return shards_[shard].puts.size(); }
  absl::StatusOr<broker::LoadedData> Load() override;

  KvEngine& engine() { return *engine_; }
  // Batches written and failed writes, for metrics and tests.
  uint64_t commits() const { return commits_.load(std::memory_order_relaxed); }
  uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }
  // Messages put and deleted before their batch was written: nothing of them reached the engine.
  uint64_t cancelled() const { return cancelled_.load(std::memory_order_relaxed); }
  // Message records put into batches (each state of a message counts).
  uint64_t messages_written() const { return messages_written_.load(std::memory_order_relaxed); }

 private:
  // A message record not written yet: encoded only at Commit, and only if no DeleteMessage came
  // first (a message acked before the group commit costs no write at all).
  struct PendingMessage {
    std::string client_id;
    uint16_t packet_id = 0;
    bool pubrec_received = false;
    bool maybe_written = false;  // an older version of the record may be in the engine
    broker::Delivery delivery;
  };
  struct ShardBatch {
    std::unique_ptr<KvBatch> batch;  // everything but message records
    absl::flat_hash_map<uint64_t, PendingMessage> puts;
    std::vector<uint64_t> deletes;  // message keys in the engine to delete (see DeleteMessage)
    // Highest message key this shard ever put (or Load found): a put of a key above it is the
    // record's first, so a delete before Commit cancels it entirely.
    uint64_t high_seq = 0;
    std::string value;  // reused encoding buffer
  };

  // Runs fn on shard's batch, or on a one-off batch written at once when shard < 0.
  template <typename F>
  void With(int shard, F&& fn);
  // Moves shard's pending message puts and deletes into its KvBatch.
  void FlushMessages(ShardBatch& sb);

  std::unique_ptr<KvEngine> engine_;
  std::vector<ShardBatch> shards_;
  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> failures_{0};
  std::atomic<uint64_t> cancelled_{0};
  std::atomic<uint64_t> messages_written_{0};
};

// Record values (exposed for tests).
std::string EncodeMeta(const broker::StoredSessionMeta& meta);
std::optional<broker::StoredSessionMeta> DecodeMeta(std::string_view client_id,
                                                     std::string_view bytes);

}  // namespace meshmq::storage
