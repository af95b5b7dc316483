#include "broker/hook_chain.h"

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

void HookChain::Add(std::shared_ptr<Hook> hook, bool first) {
  if (first) {
    hooks_.insert(hooks_.begin(), std::move(hook));
  } else {
    hooks_.push_back(std::move(hook));
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

template <class Fn>
void HookChain::ForEach(HookKind kind, Fn&& fn) {
  for (const auto& hook : hooks_) {
    try {
      if (!fn(*hook)) return;
    } catch (const std::exception& e) {
      Failed(kind, *hook, e.what());
    } catch (...) {
      Failed(kind, *hook, "unknown exception");
    }
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
  try {
    hook.OnAuthenticate(client, password, finish);
  } catch (const std::exception& e) {
    Failed(HookKind::kAuthenticate, hook, e.what());
    finish(AuthDecision::Deny(AuthDecision::Reason::kNotAuthorized));
  } catch (...) {
    Failed(HookKind::kAuthenticate, hook, "unknown exception");
    finish(AuthDecision::Deny(AuthDecision::Reason::kNotAuthorized));
  }
}

Decision HookChain::CheckAcl(const ClientInfo& client, Action action, const std::string& topic) {
  Decision verdict = Decision::kNoOpinion;
  for (const auto& hook : hooks_) {
    try {
      verdict = hook->OnAclCheck(client, action, topic);
    } catch (const std::exception& e) {
      Failed(HookKind::kAclCheck, *hook, e.what());
      return Decision::kDeny;
    } catch (...) {
      Failed(HookKind::kAclCheck, *hook, "unknown exception");
      return Decision::kDeny;
    }
    if (verdict != Decision::kNoOpinion) return verdict;
  }
  return verdict;
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
  bool keep = true;
  ForEach(HookKind::kDeliver, [&](Hook& h) {
    keep = h.OnDeliver(subscriber, message);
    return keep;
  });
  return keep;
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
