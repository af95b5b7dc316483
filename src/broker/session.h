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
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "broker/message.h"
#include "codec/packets.h"

namespace meshmq::broker {

class Client;

struct StoredSubscription {
  codec::SubscribeRequest request;  // filter as subscribed, "$share/g/f" included
  uint32_t subscription_id = 0;     // v5 Subscription Identifier, 0 = none
};

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

// The portable part of a session, moved between shards and nodes on takeover.
struct SessionState {
  std::string client_id;
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

struct Session {
  explicit Session(std::string id, boost::asio::io_context& io)
      : client_id(std::move(id)), expiry_timer(io), will_timer(io) {}

  std::string client_id;
  codec::ProtocolVersion version = codec::ProtocolVersion::kV311;
  // Seconds the session outlives its connection; 0xFFFFFFFF = never expires [MQTT-3.1.2-23].
  uint32_t expiry_interval_s = 0;
  absl::flat_hash_map<std::string, StoredSubscription> subscriptions;
  std::deque<OutboundInflight> inflight;
  std::deque<Delivery> queue;
  absl::flat_hash_set<uint16_t> incoming_qos2;
  uint16_t next_packet_id = 1;
  // Persistence (storage_port.h): whether the store holds this session.
  bool stored = false;

  Client* client = nullptr;  // the live connection, nullptr while offline
  uint64_t registry_token = 0;  // our claim on the client id in the ClientRegistry
  std::optional<codec::Will> pending_will;  // will waiting for its delay after a disconnect
  boost::asio::steady_timer expiry_timer;
  boost::asio::steady_timer will_timer;

  // Next packet id not used by an inflight message [MQTT-2.2.1-3].
  uint16_t AllocatePacketId();
  OutboundInflight* FindInflight(uint16_t packet_id);
  bool RemoveInflight(uint16_t packet_id);

  SessionState Export() const;
  // Replaces queues, inflight and ids; subscriptions are NOT imported here because they must be
  // indexed by the shard (Shard::Subscribe), which the caller does.
  void Import(SessionState state);
};

}  // namespace meshmq::broker
