// An application message as it travels through the broker: immutable once built, shared by every
// subscriber, shard and node forwarder through MessagePtr, never copied per subscriber.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "codec/properties.h"
#include "broker/memory_account.h"
#include "codec/shared_bytes.h"

namespace meshmq::broker {

struct Message {
  std::string topic;
  codec::SharedBytes payload;
  uint8_t qos = 0;      // QoS as published; each delivery is downgraded to the granted QoS
  bool retain = false;  // the RETAIN flag as published
  // Only the properties that pass through to subscribers unchanged [MQTT-3.3.2-17..20]:
  // payload format, content type, response topic, correlation data, user properties. Message
  // expiry is kept as an absolute deadline instead, so it can be decremented on delivery.
  // Null when there are none (most messages): a Properties is ~490 bytes, which every queued
  // message would otherwise carry and construct and destroy.
  std::shared_ptr<const codec::Properties> properties;
  const codec::Properties& props() const {
    static const codec::Properties kNone;
    return properties ? *properties : kNone;
  }
  // Keeps `p` unless it is empty.
  void set_properties(codec::Properties p) {
    if (p == codec::Properties{}) {
      properties.reset();
    } else {
      properties = std::make_shared<const codec::Properties>(std::move(p));
    }
  }
  // Absolute expiry in milliseconds since the Unix epoch (wall clock, so it survives forwarding
  // to another node); empty = never expires.
  std::optional<int64_t> expiry_at_ms;
  // Who published it: no-local suppression compares the client id [MQTT-3.8.3-3]; the node id
  // tells a forwarded message from a local one.
  std::string origin_client_id;
  std::string origin_node;
  // When the broker received it: the kernel stamp of the read that carried it when there is one
  // (plain TCP), else the clock when it was built. Orders retained last-writer-wins.
  int64_t timestamp_ms = 0;
  // This message's share of the node's memory account (the high-water mark), set by whoever
  // builds it (ChargeMemory) and returned when the last reference goes. Mutable only so that a
  // message built elsewhere (a cluster forward) can be charged before it is shared.
  mutable MemoryCharge charge;
  // Unique among the messages of one origin node process (with timestamp_ms and origin_node:
  // cluster-wide); lets a session that just moved drop the second copy of a message that reached
  // it both directly and through its old node (session_move.cc). 0 = unknown.
  uint64_t origin_seq = 0;
};

// Charges `msg` to the memory account once: payload, topic, the struct and its properties block.
inline void ChargeMemory(const Message& msg) {
  if (msg.charge.bytes() != 0) return;
  msg.charge = MemoryCharge(static_cast<int64_t>(
      msg.payload.size() + msg.topic.size() + sizeof(Message) +
      (msg.properties ? sizeof(codec::Properties) : 0)));
}

// A fresh origin_seq: per-thread counters, so publishing shards share no cache line.
uint64_t NextOriginSeq();

using MessagePtr = std::shared_ptr<const Message>;

}  // namespace meshmq::broker
