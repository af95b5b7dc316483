// Broker counters. One Stats per shard, written only by that shard's thread (relaxed atomics, so
// readers on other threads — metrics, $SYS — see a consistent-enough value without a lock).
#pragma once

#include <atomic>
#include <cstdint>

namespace meshmq::broker {

enum class DropReason {
  kQueueFull, kExpired, kNoSubscribers, kTooLarge, kNotAuthorized, kSlowConsumer, kMemory,
  kHook,  // a publish or deliver hook dropped it (include/meshmq/hooks.h)
  kCount
};

// What the overload limits did (docs/security.md, "Overload protection"). Rendered in /metrics
// by src/http; each event is logged at most once per kOverloadLogInterval per shard.
enum class OverloadEvent {
  kConnectionRefusedPerAddress,  // accepted socket closed: too many from its address
  kConnectionRefusedMemory,      // CONNECT refused above the memory high-water mark
  kAcceptPaused,                 // accept loop waited for the connection-rate bucket
  kReadPausedPublishRate,        // a client's reads paused: publish messages/s
  kReadPausedPublishBytes,       // a client's reads paused: publish bytes/s
  kReadPausedOutbound,           // a client's reads paused: its own outbound queue is full
  kPublishRefusedMemory,         // PUBLISH refused above the memory high-water mark
  kPublishRefusedTopicLevels,    // PUBLISH topic deeper than --max-topic-levels
  kSubscribeRefusedQuota,        // filter beyond --max-subscriptions
  kSubscribeRefusedTopicLevels,  // filter deeper than --max-topic-levels
  kSlowConsumerDisconnect,       // --slow-consumer-policy disconnect closed a client
  kCount
};
const char* OverloadEventName(OverloadEvent event);

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
  // Messages this shard routed that another shard of the node delivers (one per target shard):
  // each costs a task on that shard and often a wake-up of its thread.
  Counter handoffs{0};
  Counter dropped[static_cast<int>(DropReason::kCount)]{};
  Counter session_failures{0};  // exceptions contained in a session's handler
  Counter protocol_errors{0};
  Counter overload[static_cast<int>(OverloadEvent::kCount)]{};

  // Set by the broker: calls the OnMessageDropped hooks (hook_chain.h). Null in bare Stats.
  void (*on_drop)(void* context, DropReason reason) = nullptr;
  void* on_drop_context = nullptr;

  void Drop(DropReason reason) {
    dropped[static_cast<int>(reason)].fetch_add(1, std::memory_order_relaxed);
    if (on_drop != nullptr) on_drop(on_drop_context, reason);
  }
};

inline void Inc(std::atomic<uint64_t>& c, uint64_t n = 1) { c.fetch_add(n, std::memory_order_relaxed); }
inline void Add(std::atomic<int64_t>& g, int64_t n) { g.fetch_add(n, std::memory_order_relaxed); }

}  // namespace meshmq::broker
