// Broker counters. One Stats per shard, written only by that shard's thread (relaxed atomics, so
// readers on other threads — metrics, $SYS — see a consistent-enough value without a lock).
#pragma once

#include <atomic>
#include <cstdint>

namespace meshmq::broker {

enum class DropReason { kQueueFull, kExpired, kNoSubscribers, kTooLarge, kNotAuthorized, kSlowConsumer, kCount };

struct Stats {
  using Counter = std::atomic<uint64_t>;
  using Gauge = std::atomic<int64_t>;
  Counter connections_total{0};
  Gauge connections_current{0};
  Gauge sessions{0};             // sessions homed on this shard, online or offline
  Gauge sessions_offline{0};     // persistent sessions without a connection
  Gauge subscriptions{0};
  Gauge shared_subscriptions{0};
  Gauge inflight{0};
  Counter messages_received[3]{};  // PUBLISH from clients by QoS
  Counter messages_sent[3]{};      // PUBLISH to clients by QoS
  Counter bytes_received{0};
  Counter bytes_sent{0};
  Counter dropped[static_cast<int>(DropReason::kCount)]{};
  Counter session_failures{0};  // exceptions contained in a session's handler
  Counter protocol_errors{0};

  void Drop(DropReason reason) { dropped[static_cast<int>(reason)].fetch_add(1, std::memory_order_relaxed); }
};

inline void Inc(std::atomic<uint64_t>& c, uint64_t n = 1) { c.fetch_add(n, std::memory_order_relaxed); }
inline void Add(std::atomic<int64_t>& g, int64_t n) { g.fetch_add(n, std::memory_order_relaxed); }

}  // namespace meshmq::broker
