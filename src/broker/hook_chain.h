// The hooks of one node (include/meshmq/hooks.h), in the order they were added. Added before the
// broker starts and read-only afterwards, so the shards call them without a lock. Every call
// contains exceptions: a throwing hook is logged, counted per hook kind, and treated as a deny
// (questions) or as "no change" (filters, events).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/message.h"
#include "broker/stats.h"
#include "meshmq/hooks.h"

namespace meshmq::broker {

enum class HookKind {
  kAuthenticate, kAclCheck, kSubscribe, kPublish, kDeliver, kConnected, kDisconnected,
  kSessionCreated, kSessionResumed, kSessionExpired, kWillSent, kRetainedStored, kMessageDropped,
  kCount
};
const char* HookKindName(HookKind kind);  // "authenticate", "acl_check", ...
const char* DropReasonName(DropReason reason);

// A hook's view of a broker message delivered at `qos` (valid while `msg` lives).
inline MessageView ViewOf(const Message& msg, int qos) {
  return MessageView{msg.topic, msg.payload.view(), qos, msg.retain, msg.origin_client_id};
}

class HookChain {
 public:
  // Before Broker::Start() only. `first`: ahead of every hook added so far (the built-in auth).
  void Add(std::shared_ptr<Hook> hook, bool first = false);
  bool empty() const { return hooks_.empty(); }
  size_t size() const { return hooks_.size(); }

  // Calls hook `index`'s OnAuthenticate; `done` receives its verdict exactly once (a throw is a
  // deny, a second call is ignored), on whatever thread the hook completed on.
  void AuthenticateOne(size_t index, const ClientInfo& client,
                       const std::optional<std::string>& password, AuthDone done);
  Decision CheckAcl(const ClientInfo& client, Action action, const std::string& topic);
  int Subscribe(const ClientInfo& client, const std::string& filter, int qos);  // -1: refused
  bool Publish(const ClientInfo& client, meshmq::Message& message);                   // false: drop
  bool Deliver(const ClientInfo& subscriber, const MessageView& message);       // false: skip

  void Connected(const ClientInfo& client);
  void Disconnected(const ClientInfo& client);
  void SessionCreated(const ClientInfo& client);
  void SessionResumed(const ClientInfo& client);
  void SessionExpired(std::string_view client_id);
  void WillSent(std::string_view client_id, const MessageView& will);
  void RetainedStored(const MessageView& message);
  void MessageDropped(DropReason reason);

  uint64_t failures(HookKind kind) const {
    return failures_[static_cast<int>(kind)].load(std::memory_order_relaxed);
  }
  // meshmq_hook_failures_total{hook="..."} in the Prometheus text format.
  std::string RenderMetrics() const;

 private:
  // Runs fn(hook) for each hook, containing exceptions; fn returns false to stop.
  template <class Fn>
  void ForEach(HookKind kind, Fn&& fn);
  void Failed(HookKind kind, const Hook& hook, const char* what);

  std::vector<std::shared_ptr<Hook>> hooks_;
  std::array<std::atomic<uint64_t>, static_cast<int>(HookKind::kCount)> failures_{};
};

}  // namespace meshmq::broker
