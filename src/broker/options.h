// Broker settings, mapped from config::Config by src/app (the broker does not read config files).
#pragma once

#include <cstdint>
#include <string>

#include "broker/shared_picker.h"

namespace meshmq::broker {

// What happens to a subscriber whose connection has more than max_outbound_bytes unwritten.
enum class SlowConsumerPolicy {
  kDrop,        // QoS 0 dropped; QoS 1/2 wait in the session queue (bounded, then dropped)
  kDisconnect,  // the connection is closed at once (the session stays, if persistent)
};

struct BrokerOptions {
  std::string node_id = "meshmq";
  int workers = 1;
  uint32_t max_connections = 100000;  // 0 = unlimited
  uint32_t max_packet_size = 1048576;
  uint32_t max_queued_messages = 1000;
  uint16_t max_inflight = 32;         // our Receive Maximum, and cap on the outbound window
  uint16_t max_topic_alias = 64;
  uint32_t max_session_expiry = 4294967295u;
  uint16_t max_keep_alive = 0;        // 0 = accept what the client asks
  uint32_t connect_timeout_ms = 10000;
  // Bytes queued on one connection's socket beyond which QoS 0 messages to it are dropped (the
  // slow-consumer policy); QoS 1/2 wait in the session queue instead.
  size_t max_outbound_bytes = 4 << 20;
  SlowConsumerPolicy slow_consumer_policy = SlowConsumerPolicy::kDrop;
  // Overload protection (docs/security.md); 0 = unlimited for each.
  uint32_t max_connections_per_address = 0;
  uint32_t max_accept_rate = 0;         // connections accepted per second, per listener
  uint32_t max_publish_rate = 0;        // PUBLISH packets per second, per client
  uint32_t max_publish_bytes_rate = 0;  // PUBLISH bytes (topic + payload) per second, per client
  uint32_t max_subscriptions = 0;       // per session
  uint32_t max_topic_levels = 128;      // of a topic name or filter
  // Memory account (MemoryAccount) above which publishes and new sessions are refused, until it
  // falls below the low mark; 0 = no limit.
  uint64_t memory_high_water_bytes = 0;
  uint64_t memory_low_water_bytes = 0;
  SharedStrategy shared_strategy = SharedStrategy::kRoundRobin;
  uint32_t sys_interval_s = 10;
  bool debug_fault_injection = false;
  std::string trace_clients;  // client id prefix whose packets are logged; empty = none
  uint32_t drain_timeout_ms = 20000;
  // Storage (docs/storage.md): how long a busy shard may hold its group commit (and the acks
  // behind it) to let messages be acked before they are written; 0 = commit every turn.
  uint32_t storage_commit_delay_us = 3000;
};

}  // namespace meshmq::broker
