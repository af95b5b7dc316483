// The hooks of one node (include/meshmq/hooks.h), in the order they were added, meshmq's own
// ("builtin-auth", "builtin-acl") among them. Set before the broker starts and read-only
// afterwards, so the shards call them without a lock. Every call contains exceptions: a throwing
// hook is logged, counted per hook kind, and treated as a deny (questions) or as "no change"
// (filters, events). The optional calls (Hook::Features) go only to the hooks that asked for
// them, so a node whose hooks need no delivery ACL pays nothing per message for it.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
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

// A verdict OnAclFetch delivered for one packet: it stands in for hook `hook`'s OnAclCheck.
struct FetchedAcl {
  size_t hook = 0;
  Action action = Action::kPublish;
  std::string topic;
  Decision decision = Decision::kDeny;
};

class HookChain {
 public:
  // Before Broker::Start() only.
  void Add(std::shared_ptr<Hook> hook);
  void Set(std::vector<std::shared_ptr<Hook>> hooks);  // replaces the whole chain
  const std::vector<std::shared_ptr<Hook>>& hooks() const { return hooks_; }
  bool empty() const { return hooks_.empty(); }
  size_t size() const { return hooks_.size(); }
  bool async_acl() const { return !async_acl_.empty(); }        // some hook fetches verdicts
  bool delivery_acl() const { return !delivery_acl_.empty(); }  // some hook filters deliveries
  bool delivers() const { return !deliver_.empty(); }           // some hook has OnDeliver

  // Calls hook `index`'s OnAuthenticate; `done` receives its verdict exactly once (a throw is a
  // deny, a second call is ignored), on whatever thread the hook completed on.
  void AuthenticateOne(size_t index, const ClientInfo& client,
                       const std::optional<std::string>& password, AuthDone done);
  // Questions in order until one has an opinion; a verdict in `fetched` answers for its hook.
  Decision CheckAcl(const ClientInfo& client, Action action, const std::string& topic,
                    const std::vector<FetchedAcl>* fetched = nullptr);
  // Asks the async-ACL hooks which of `questions` they cannot answer now and starts those
  // fetches. False when none is needed (`done` is dropped); else `done` runs once with every
  // verdict, on the thread of the last answer.
  struct AclQuestion {
    Action action;
    std::string topic;
  };
  bool FetchAcl(const ClientInfo& client, const std::vector<AclQuestion>& questions,
                std::function<void(std::vector<FetchedAcl>)> done);
  // Delivery ACL. AclScope: for SubOptions::acl_all_generation when `filter` is granted:
  // AclVersion() + 1 when every delivery-ACL hook grants it in full (always, without such
  // hooks), else 0. A delivery whose value is not AclVersion() + 1 asks AclDeliver.
  uint64_t AclScope(const ClientInfo& subscriber, const std::string& filter);
  uint64_t AclVersion() const {
    uint64_t v = 0;  // each only grows, so the sum changes whenever one of them does
    for (const Hook* h : delivery_acl_) v += h->AclVersion();
    return v;
  }
  Decision AclDeliver(const ClientInfo& subscriber, std::string_view topic);
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
  // fn() for `hook`, containing a throw: logged, counted, and `on_throw` returned instead.
  template <class R, class Fn>
  R Guarded(HookKind kind, Hook& hook, R on_throw, Fn&& fn);
  // Runs fn(hook) for each hook, containing exceptions; fn returns false to stop.
  template <class Fn>
  void ForEach(HookKind kind, Fn&& fn);
  void Failed(HookKind kind, const Hook& hook, const char* what);

  std::vector<std::shared_ptr<Hook>> hooks_;
  // Indexes into hooks_ / the hooks themselves, by feature (Hook::features(), read in Add).
  std::vector<size_t> async_acl_;
  std::vector<Hook*> delivery_acl_;
  std::vector<Hook*> deliver_;
  std::array<std::atomic<uint64_t>, static_cast<int>(HookKind::kCount)> failures_{};
};

}  // namespace meshmq::broker
