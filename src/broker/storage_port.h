// What the broker asks of a persistent store. Defined here so the broker never includes an
// engine's headers; src/storage implements it and src/app wires it (nullptr = nothing is stored,
// --storage memory).
//
// Mutations name the shard whose thread makes them and land in that shard's batch; Commit(shard)
// writes the batch as one atomic write (group commit: one write per shard per dispatch turn). The
// broker lets acknowledgements of what it stored leave only after Commit returned.
// Only persistent sessions (Session Expiry Interval > 0, or 3.x clean session 0) are stored.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "broker/message.h"
#include "broker/session.h"

namespace meshmq::broker {

// The per-session record without its subscriptions and messages (those have their own keys).
struct StoredSessionMeta {
  std::string client_id;
  codec::ProtocolVersion version = codec::ProtocolVersion::kV311;
  uint32_t expiry_interval_s = 0;
  // Wall clock (ms since the epoch) when the client went offline; 0 = it was online, so after a
  // crash the expiry interval starts again at load.
  int64_t disconnected_at_ms = 0;
};

// A session as loaded at start: its meta and its SessionState (subscriptions, inflight in store
// order with their packet ids, queue, incoming QoS 2 ids).
struct LoadedSession {
  StoredSessionMeta meta;
  SessionState state;
};

struct LoadedData {
  std::vector<MessagePtr> retained;
  std::vector<LoadedSession> sessions;
};

class StoragePort {
 public:
  virtual ~StoragePort() = default;

  // --- Buffered in `shard`'s batch; call only on that shard's thread.
  virtual void PutSession(int shard, const StoredSessionMeta& meta) = 0;
  // Removes the session, its subscriptions and QoS 2 ids; its messages are deleted one by one
  // with DeleteMessage (their keys are node-wide sequence numbers).
  virtual void DeleteSession(int shard, const std::string& client_id) = 0;
  virtual void PutSubscription(int shard, const std::string& client_id,
                               const StoredSubscription& sub) = 0;
  virtual void DeleteSubscription(int shard, const std::string& client_id,
                                  const std::string& filter) = 0;
  // One outbound QoS 1/2 message of a session, keyed by delivery.store_seq (unique on the node,
  // assigned in delivery order, so loading by key order keeps each session's order): queued
  // (packet_id 0) or in flight (packet id, and whether PUBREC came; then the message is gone).
  virtual void PutMessage(int shard, const std::string& client_id, uint16_t packet_id,
                          bool pubrec_received, const Delivery& delivery) = 0;
  virtual void DeleteMessage(int shard, const std::string& client_id, uint64_t seq) = 0;
  // QoS 2 packet ids received from the client and not yet released (PUBREL) [MQTT-4.3.3].
  virtual void PutIncomingQos2(int shard, const std::string& client_id, uint16_t packet_id) = 0;
  virtual void DeleteIncomingQos2(int shard, const std::string& client_id, uint16_t packet_id) = 0;

  // Retained messages; shard < 0 writes at once (callers off the shard threads: cluster
  // replication, admin API), else the write joins that shard's batch.
  virtual void PutRetained(int shard, const MessagePtr& msg) = 0;
  virtual void DeleteRetained(int shard, const std::string& topic) = 0;

  // Writes `shard`'s batch (nothing when it is empty). false = the write failed (logged); the
  // caller must not acknowledge what the batch held.
  virtual bool Commit(int shard) = 0;
  virtual bool HasPending(int shard) const = 0;
  // Message records of `shard`'s batch that Commit would write now. A store that drops a message
  // put and deleted before its commit (both are then never written) says 0 once every message
  // of the batch was acked: waiting longer for the commit gains nothing.
  virtual size_t PendingMessagePuts(int shard) const {
    (void)shard;
    return 0;
  }

  // Everything stored, read once at start before the shards run.
  virtual absl::StatusOr<LoadedData> Load() = 0;
};

}  // namespace meshmq::broker
