// Session state that outlives a network connection [MQTT-4.1]: subscriptions, QoS 1/2 messages in
// flight in both directions, and messages queued while the client is offline or its window full.
//
// A Session lives on one shard and is touched only by that shard's thread. When its client
// reconnects on another shard (or node) the state moves as a SessionState value.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "auth/client_info.h"
#include "broker/lazy_deque.h"
#include "broker/lazy_map.h"
#include "broker/lazy_timer.h"
#include "broker/message.h"
#include "broker/subscription_map.h"
#include "codec/packets.h"

namespace meshmq::broker {

class Client;

// One message on its way to this session's client.
struct Delivery {
  MessagePtr msg;
  uint8_t qos = 0;       // min(published QoS, granted QoS)
  bool retain = false;   // RETAIN flag to send
  std::vector<uint32_t> subscription_ids;
  // Key of this delivery among stored messages (0 = not stored): node-wide and increasing, so
  // the store returns each session's messages in delivery order (see storage_port.h).
  uint64_t store_seq = 0;
};

// A QoS 1/2 PUBLISH sent to the client and not yet completed.
struct OutboundInflight {
  uint16_t packet_id = 0;
  Delivery delivery;
  bool pubrec_received = false;  // QoS 2: PUBREL sent, waiting for PUBCOMP
};

// Who last connected with this session's client id: ACL checks on delivery need it, also
// while the client is offline and its messages queue up.
struct SessionOwner {
  std::string username;
  std::string address;  // peer IP as text
  bool has_username = false;
  bool superuser = false;  // HTTP auth said so, or a bridge's local side: no ACL on delivery
  bool operator==(const SessionOwner&) const = default;
};

// The portable part of a session, moved between shards and nodes on takeover.
struct SessionState {
  std::string client_id;
  SessionOwner owner;
  codec::ProtocolVersion version = codec::ProtocolVersion::kV311;
  uint32_t expiry_interval_s = 0;
  std::vector<StoredSubscription> subscriptions;
  std::vector<OutboundInflight> inflight;
  std::deque<Delivery> queue;
  std::vector<uint16_t> incoming_qos2;  // QoS 2 packet ids received, PUBREL not yet seen
  uint16_t next_packet_id = 1;
  // A will waiting for its delay: sent when the session ends, cancelled if it resumes.
  std::optional<codec::Will> pending_will;
};

// What few sessions ever use: a delayed will, the offline expiry timer, and the state of a move
// between nodes. Allocated on first use (a session's client went away, or it moved), freed when
// the client resumes and none of it is live, so an idle connected session pays one pointer
// instead of ~130 bytes.
struct SessionRare {
  explicit SessionRare(boost::asio::io_context& io) : expiry_timer(io), will_timer(io) {}

  // Will waiting for its delay after a disconnect; on the heap (a Will is ~560 bytes).
  std::unique_ptr<codec::Will> pending_will;
  LazyTimer expiry_timer;  // armed only while offline (and for a tombstone's polls)
  LazyTimer will_timer;

  // Set when the session moved to that node (Shard::MoveSession): the session is then only a
  // forwarding tombstone that keeps the subscriptions (and so this node's routes) a little longer
  // and passes whatever still arrives for them on to the new owner.
  std::string moved_to;
  int64_t moved_at_ms = 0;          // steady clock
  int64_t moved_covered_at_ms = 0;  // when the new owner's routes covered ours here; 0 = not yet
  // The forward barrier asked for once the routes covered ours (ClusterPort::AwaitForwardBarrier)
  // has passed: no peer can still send us a message for this session that the new owner lacks.
  bool moved_barrier_passed = false;
  uint32_t moved_barrier_gen = 0;  // which request a barrier's answer belongs to

  // Set for a while after the session moved HERE from another node (Import): ids of messages
  // that came directly and that the old node passed on, so one arriving both ways is delivered
  // once (session_move.cc).
  struct MoveDedup {
    int64_t until_ms = 0;  // steady clock
    bool full = false;     // too many ids: no more de-duplication, passed-on still accepted
    // Ids delivered since the import as they came: directly (with those of the imported queue
    // and window) or passed on by a tombstone.
    absl::flat_hash_set<std::tuple<std::string, int64_t, uint64_t>> direct, passed_on;
  };
  std::unique_ptr<MoveDedup> move_dedup;
};

struct Session {
  explicit Session(std::string id, boost::asio::io_context& io)
      : client_id(std::move(id)), io_(&io) {}

  // Field order packs the small fields together (no padding holes): one Session per client.
  std::string client_id;
  SessionOwner owner;
  codec::ProtocolVersion version = codec::ProtocolVersion::kV311;
  // Persistence (storage_port.h): whether the store holds this session.
  bool stored = false;
  // The inflight ids ascend around the id ring from the front (PushInflight, Import keep it):
  // then an id past the last one is free without a scan (AllocatePacketId). Sits in the padding
  // after `stored`.
  bool inflight_in_id_order = true;
  uint16_t next_packet_id = 1;
  // Seconds the session outlives its connection; 0xFFFFFFFF = never expires [MQTT-3.1.2-23].
  uint32_t expiry_interval_s = 0;
  // Usually one subscription: a vector, no hash table (subscription_map.h).
  SubscriptionMap subscriptions;
  // Most sessions never queue or hold a QoS 1/2 message: 8 bytes each until they do.
  LazyDeque<OutboundInflight> inflight;
  LazyDeque<Delivery> queue;
  LazySet<uint16_t> incoming_qos2;

  auth::ClientInfo Identity() const {
    return auth::ClientInfo{owner.username, owner.has_username, client_id, owner.address};
  }

  Client* client = nullptr;  // the live connection, nullptr while offline
  uint64_t registry_token = 0;  // our claim on the client id in the ClientRegistry

  // The rarely used part, created on first call.
  SessionRare& Rare() {
    if (!rare_) rare_ = std::make_unique<SessionRare>(*io_);
    return *rare_;
  }
  SessionRare* rare() const { return rare_.get(); }
  codec::Will* pending_will() const { return rare_ ? rare_->pending_will.get() : nullptr; }
  // A forwarding tombstone (moved to another node)?
  bool moved() const { return rare_ && !rare_->moved_to.empty(); }
  // Cancels the expiry and will-delay timers (if they were ever armed).
  void CancelTimers() {
    if (rare_) {
      rare_->expiry_timer.cancel();
      rare_->will_timer.cancel();
    }
  }
  // Frees the rare part when nothing in it is live any more (timers cancelled, no pending will,
  // not moving): pending timer handlers look the session up by id, so none holds a pointer in.
  void TrimRare() {
    if (rare_ && !rare_->pending_will && rare_->moved_to.empty() && !rare_->move_dedup) {
      rare_.reset();
    }
  }

  // Next packet id not used by an inflight message [MQTT-2.2.1-3]; 0 when all 65,535 are.
  // Constant time while the inflight ids are in order (the usual case: they are allocated in
  // order and pushed in send order); a scan of the window otherwise (after a takeover or a
  // restore brought an unordered window, or when the ids wrapped around to the oldest one).
  uint16_t AllocatePacketId();
  // Appends a message just sent with `packet_id`; the only way the broker grows the window.
  void PushInflight(OutboundInflight entry);
  OutboundInflight* FindInflight(uint16_t packet_id);
  bool RemoveInflight(uint16_t packet_id);

  SessionState Export() const;
  // Replaces queues, inflight and ids; subscriptions are NOT imported here because they must be
  // indexed by the shard (Shard::Subscribe), which the caller does. Starts move_dedup.
  void Import(SessionState state);

 private:
  boost::asio::io_context* io_;
  std::unique_ptr<SessionRare> rare_;
};

// Starts the session's move_dedup window (session_move.cc).
void StartMoveDedup(Session& session);

}  // namespace meshmq::broker
