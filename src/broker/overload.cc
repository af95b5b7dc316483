// Counting and logging of overload events (the limits themselves live where they act:
// client_limits.cc, handle_connect.cc, src/transport/listener.cc).
#include <spdlog/spdlog.h>

#include "broker/shard.h"
#include "broker/stats.h"

namespace meshmq::broker {

const char* OverloadEventName(OverloadEvent event) {
  switch (event) {
    case OverloadEvent::kConnectionRefusedPerAddress:
      return "connection refused: too many connections from one address";
    case OverloadEvent::kConnectionRefusedMemory:
      return "connection refused: memory above the high-water mark";
    case OverloadEvent::kAcceptPaused:
      return "accepting paused: connection rate limit";
    case OverloadEvent::kReadPausedPublishRate:
      return "client reads paused: publish rate limit";
    case OverloadEvent::kReadPausedPublishBytes:
      return "client reads paused: publish byte rate limit";
    case OverloadEvent::kReadPausedOutbound:
      return "client reads paused: its outbound queue is full";
    case OverloadEvent::kPublishRefusedMemory:
      return "publish refused: memory above the high-water mark";
    case OverloadEvent::kPublishRefusedTopicLevels:
      return "publish refused: too many topic levels";
    case OverloadEvent::kSubscribeRefusedQuota:
      return "subscription refused: max-subscriptions reached";
    case OverloadEvent::kSubscribeRefusedTopicLevels:
      return "subscription refused: too many topic levels";
    case OverloadEvent::kSlowConsumerDisconnect:
      return "slow consumer disconnected";
    case OverloadEvent::kCount:
      break;
  }
  return "?";
}

void Shard::NoteOverload(OverloadEvent event, std::string_view detail) {
  int i = static_cast<int>(event);
  uint64_t count = stats_.overload[i].fetch_add(1, std::memory_order_relaxed) + 1;
  // A limit that triggers thousands of times a second must not flood the log: one line per
  // event kind per shard per interval, with the running count.
  auto now = std::chrono::steady_clock::now();
  auto& last = overload_logged_[i];
  if (last != std::chrono::steady_clock::time_point{} && now - last < kOverloadLogInterval) return;
  last = now;
  spdlog::warn("overload: {} ({}); {} times on shard {} so far", OverloadEventName(event), detail,
               count, index_);
}

}  // namespace meshmq::broker
