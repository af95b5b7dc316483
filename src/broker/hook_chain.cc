#include "broker/hook_chain.h"

#include <algorithm>
#include <exception>
#include <iterator>

#include <spdlog/spdlog.h>

namespace meshmq::broker {

namespace {

constexpr const char* kKindNames[] = {
    "authenticate",    "acl_check",       "subscribe",   "publish",      "deliver",
    "connected",       "disconnected",    "session_created", "session_resumed",
    "session_expired", "will_sent",       "retained_stored", "message_dropped"};
static_assert(std::size(kKindNames) == static_cast<size_t>(HookKind::kCount));

constexpr const char* kDropNames[] = {"queue_full",     "expired",       "no_subscribers",
                                      "too_large",      "not_authorized", "slow_consumer",
                                      "memory",         "hook"};
static_assert(std::size(kDropNames) == static_cast<size_t>(DropReason::kCount));

}  // namespace

const char* HookKindName(HookKind kind) { return kKindNames[static_cast<int>(kind)]; }
const char* DropReasonName(DropReason reason) { return kDropNames[static_cast<int>(reason)]; }

void HookChain::Add(std::shared_ptr<Hook> hook) {
  Hook::Features f = hook->features();
  if (f.async_acl) async_acl_.push_back(hooks_.size());
  if (f.delivery_acl) delivery_acl_.push_back(hook.get());
  if (f.deliver) deliver_.push_back(hook.get());
  hooks_.push_back(std::move(hook));
}

void HookChain::Set(std::vector<std::shared_ptr<Hook>> hooks) {
  hooks_.clear();
  async_acl_.clear();
  delivery_acl_.clear();
  deliver_.clear();
  for (auto& hook : hooks) {
    if (hook) Add(std::move(hook));
  }
}

void HookChain::Failed(HookKind kind, const Hook& hook, const char* what) {
  uint64_t n = failures_[static_cast<int>(kind)].fetch_add(1, std::memory_order_relaxed);
  if (n < 10 || (n & 1023) == 0) {  // a hook failing on every message must not flood the log
    std::string name;
    try {
      name = hook.name();
    } catch (...) {
      name = "?";
    }
    spdlog::error("hook {} failed in {}: {}", name, HookKindName(kind), what);
  }
}

template <class R, class Fn>
R HookChain::Guarded(HookKind kind, Hook& hook, R on_throw, Fn&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    Failed(kind, hook, e.what());
  } catch (...) {
    Failed(kind, hook, "unknown exception");
  }
  return on_throw;
}

template <class Fn>
void HookChain::ForEach(HookKind kind, Fn&& fn) {
  for (const auto& hook : hooks_) {
    // A throwing hook is skipped: the next one runs.
    if (!Guarded(kind, *hook, true, [&] { return fn(*hook); })) return;
  }
}

void HookChain::AuthenticateOne(size_t index, const ClientInfo& client,
                                const std::optional<std::string>& password, AuthDone done) {
  // The hook may call its callback twice, or call it and then throw: only the first verdict counts.
  auto once = std::make_shared<std::atomic<bool>>(false);
  auto finish = [once, done](AuthDecision d) {
    if (!once->exchange(true)) done(d);
  };
  Hook& hook = *hooks_[index];
  bool called = Guarded(HookKind::kAuthenticate, hook, false, [&] {
    hook.OnAuthenticate(client, password, finish);
    return true;
  });
  if (!called) finish(AuthDecision::Deny(AuthDecision::Reason::kNotAuthorized));
}

Decision HookChain::CheckAcl(const ClientInfo& client, Action action, const std::string& topic,
                            const std::vector<FetchedAcl>* fetched) {
  for (size_t i = 0; i < hooks_.size(); ++i) {
    Hook& hook = *hooks_[i];
    Decision verdict = Decision::kNoOpinion;
    const FetchedAcl* answer = nullptr;
    if (fetched != nullptr) {
      auto it = std::find_if(fetched->begin(), fetched->end(), [&](const FetchedAcl& f) {
        return f.hook == i && f.action == action && f.topic == topic;
      });
      if (it != fetched->end()) answer = &*it;
    }
    if (answer != nullptr) {
      verdict = answer->decision;
    } else {
      verdict = Guarded(HookKind::kAclCheck, hook, Decision::kDeny,
                        [&] { return hook.OnAclCheck(client, action, topic); });
    }
    if (verdict != Decision::kNoOpinion) return verdict;
  }
  return Decision::kNoOpinion;
}

bool HookChain::FetchAcl(const ClientInfo& client, const std::vector<AclQuestion>& questions,
                         std::function<void(std::vector<FetchedAcl>)> done) {
  struct Fetch {
    std::vector<FetchedAcl> verdicts;
    std::atomic<size_t> remaining{1};  // + 1 while the requests are still being started
    std::function<void(std::vector<FetchedAcl>)> done;
    void Answered() {
      if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) done(std::move(verdicts));
    }
  };
  auto fetch = std::make_shared<Fetch>();
  for (const AclQuestion& q : questions) {
    for (size_t i : async_acl_) {
      Hook& hook = *hooks_[i];
      // A throw asks for a fetch, whose answer defaults to deny.
      if (!Guarded(HookKind::kAclCheck, hook, true,
                   [&] { return hook.AclNeedsFetch(client, q.action, q.topic); })) {
        continue;
      }
      fetch->verdicts.push_back({i, q.action, q.topic, Decision::kDeny});  // deny until answered
    }
  }
  if (fetch->verdicts.empty()) return false;
  fetch->done = std::move(done);
  fetch->remaining.fetch_add(fetch->verdicts.size(), std::memory_order_relaxed);
  for (size_t k = 0; k < fetch->verdicts.size(); ++k) {
    const FetchedAcl& v = fetch->verdicts[k];
    Hook& hook = *hooks_[v.hook];
    auto once = std::make_shared<std::atomic<bool>>(false);
    auto answer = [fetch, once, k](Decision d) {
      if (once->exchange(true)) return;  // a second call is ignored
      fetch->verdicts[k].decision = d;
      fetch->Answered();
    };
    bool started = Guarded(HookKind::kAclCheck, hook, false, [&] {
      hook.OnAclFetch(client, v.action, v.topic, answer);
      return true;
    });
    if (!started) answer(Decision::kDeny);
  }
  fetch->Answered();
  return true;
}

uint64_t HookChain::AclScope(const ClientInfo& subscriber, const std::string& filter) {
  uint64_t version = AclVersion();  // before the answers: a reload meanwhile makes them stale
  for (Hook* hook : delivery_acl_) {
    if (!Guarded(HookKind::kAclCheck, *hook, false,
                 [&] { return hook->OnAclGrantsAll(subscriber, filter); })) {
      return 0;
    }
  }
  return version + 1;
}

Decision HookChain::AclDeliver(const ClientInfo& subscriber, std::string_view topic) {
  for (Hook* hook : delivery_acl_) {
    Decision d = Guarded(HookKind::kAclCheck, *hook, Decision::kDeny,
                         [&] { return hook->OnAclDeliver(subscriber, topic); });
    if (d != Decision::kNoOpinion) return d;
  }
  return Decision::kNoOpinion;
}

int HookChain::Subscribe(const ClientInfo& client, const std::string& filter, int qos) {
  ForEach(HookKind::kSubscribe, [&](Hook& h) {
    int granted = h.OnSubscribe(client, filter, qos);
    if (granted < 0) {
      qos = -1;
      return false;
    }
    if (granted < qos) qos = granted;  // lower only
    return true;
  });
  return qos;
}

bool HookChain::Publish(const ClientInfo& client, meshmq::Message& message) {
  bool keep = true;
  ForEach(HookKind::kPublish, [&](Hook& h) {
    meshmq::Message copy = message;  // a hook that throws half-way changes nothing
    if (!h.OnPublish(client, copy)) {
      keep = false;
      return false;
    }
    message = std::move(copy);
    return true;
  });
  return keep;
}

bool HookChain::Deliver(const ClientInfo& subscriber, const MessageView& message) {
  for (Hook* hook : deliver_) {  // only the hooks with features().deliver; a throw skips one
    if (!Guarded(HookKind::kDeliver, *hook, true,
                 [&] { return hook->OnDeliver(subscriber, message); })) {
      return false;
    }
  }
  return true;
}

void HookChain::Connected(const ClientInfo& c) {
  ForEach(HookKind::kConnected, [&](Hook& h) { return h.OnConnected(c), true; });
}
void HookChain::Disconnected(const ClientInfo& c) {
  ForEach(HookKind::kDisconnected, [&](Hook& h) { return h.OnDisconnected(c), true; });
}
void HookChain::SessionCreated(const ClientInfo& c) {
  ForEach(HookKind::kSessionCreated, [&](Hook& h) { return h.OnSessionCreated(c), true; });
}
void HookChain::SessionResumed(const ClientInfo& c) {
  ForEach(HookKind::kSessionResumed, [&](Hook& h) { return h.OnSessionResumed(c), true; });
}
void HookChain::SessionExpired(std::string_view id) {
  ForEach(HookKind::kSessionExpired, [&](Hook& h) { return h.OnSessionExpired(id), true; });
}
void HookChain::WillSent(std::string_view id, const MessageView& will) {
  ForEach(HookKind::kWillSent, [&](Hook& h) { return h.OnWillSent(id, will), true; });
}
void HookChain::RetainedStored(const MessageView& m) {
  ForEach(HookKind::kRetainedStored, [&](Hook& h) { return h.OnRetainedStored(m), true; });
}
void HookChain::MessageDropped(DropReason reason) {
  std::string_view name = DropReasonName(reason);
  ForEach(HookKind::kMessageDropped, [&](Hook& h) { return h.OnMessageDropped(name), true; });
}

std::string HookChain::RenderMetrics() const {
  std::string out =
      "# HELP meshmq_hook_failures_total Exceptions thrown by hooks, contained.\n"
      "# TYPE meshmq_hook_failures_total counter\n";
  for (int k = 0; k < static_cast<int>(HookKind::kCount); ++k) {
    out += "meshmq_hook_failures_total{hook=\"";
    out += kKindNames[k];
    out += "\"} " + std::to_string(failures_[k].load(std::memory_order_relaxed)) + "\n";
  }
  return out;
}

}  // namespace meshmq::broker
