// meshmq hooks: C++ callbacks that decide logins, rights and messages, or watch what happens.
// Public API: only the standard library here (docs/embedding.md).
//
// Threading: every method runs on the shard thread that owns the client concerned (session
// expiry and retained-store events: on the thread that caused them). A hook must not block: it
// shares that thread with thousands of clients. Blocking work (a database, an HTTP call) belongs
// in OnAuthenticate, which may complete later from any thread. Hooks are added before Start()
// and called concurrently from every shard, so their own state needs its own synchronisation.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace meshmq {

// Who a hook is asked about. Valid during the call only: copy what you keep.
struct ClientInfo {
  std::string client_id;
  std::string username;
  bool has_username = false;  // false: the CONNECT had no user name
  std::string address;        // the peer's IP address
  int protocol_version = 4;   // 3 (MQTT 3.1), 4 (3.1.1) or 5
};

// A hook's answer to a question: kNoOpinion passes it to the next hook.
enum class Decision { kNoOpinion, kAllow, kDeny };

struct AuthDecision {
  Decision decision = Decision::kNoOpinion;
  // kAllow only: no ACL check at all for this connection (built-in ACL and ACL hooks).
  bool superuser = false;
  // kDeny only: the CONNACK code. kBadCredentials = v5 0x86 / 3.x 4, kNotAuthorized = 0x87 / 5,
  // kBusy = v5 0x9F connection rate exceeded / 3.x 3 server unavailable.
  enum class Reason { kBadCredentials, kNotAuthorized, kBusy } reason = Reason::kBadCredentials;

  static AuthDecision Allow(bool superuser = false) { return {Decision::kAllow, superuser}; }
  static AuthDecision Deny(Reason reason = Reason::kBadCredentials) {
    return {Decision::kDeny, false, reason};
  }
  static AuthDecision NoOpinion() { return {}; }
};

// Call exactly once, from any thread, now or later; the verdict is posted back to the shard.
using AuthDone = std::function<void(AuthDecision)>;

enum class Action { kPublish, kSubscribe };

// A PUBLISH as a publish hook sees (and may change) it.
struct Message {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retain = false;
};

// A message on its way to one subscriber, or one that was stored. Valid during the call only.
struct MessageView {
  std::string_view topic;
  std::string_view payload;
  int qos = 0;  // as delivered (the lower of the published and the granted QoS)
  bool retain = false;
  std::string_view from_client;  // the publisher's client id; empty for the host and $SYS
};

class Hook {
 public:
  virtual ~Hook() = default;
  // In logs and in meshmq_hook_failures_total{hook="<kind>"}.
  virtual std::string name() const { return "hook"; }

  // --- Questions, asked in the order the hooks were added until one has an opinion.
  // CONNECT. With no opinion from any hook the client is let in. Throwing denies (0x87).
  virtual void OnAuthenticate(const ClientInfo& client, const std::optional<std::string>& password,
                              AuthDone done) {
    done(AuthDecision::NoOpinion());
  }
  // PUBLISH topic or SUBSCRIBE filter (a will topic as a publish at CONNECT). All no opinion:
  // allowed. Throwing denies. Not asked for superusers.
  virtual Decision OnAclCheck(const ClientInfo& client, Action action, const std::string& topic) {
    return Decision::kNoOpinion;
  }

  // --- Filters, each hook in turn.
  // An authorized SUBSCRIBE filter: returns the QoS to grant (lower only; a higher value is
  // ignored), or -1 to refuse the filter (0x87 / 3.x 0x80).
  virtual int OnSubscribe(const ClientInfo& client, const std::string& filter, int qos) {
    return qos;
  }
  // An authorized PUBLISH from a client: may change topic (to a valid topic name), payload, QoS
  // (0..2, the sender's acknowledgement keeps its own QoS) and retain; false drops it (v5 acks
  // 0x83 implementation specific error, 3.x acks as usual). Not called for host publishes.
  virtual bool OnPublish(const ClientInfo& client, Message& message) { return true; }
  // One delivery to one subscriber (online or queued); false skips that subscriber.
  virtual bool OnDeliver(const ClientInfo& subscriber, const MessageView& message) { return true; }

  // --- Events.
  virtual void OnConnected(const ClientInfo& client) {}
  virtual void OnDisconnected(const ClientInfo& client) {}
  virtual void OnSessionCreated(const ClientInfo& client) {}
  virtual void OnSessionResumed(const ClientInfo& client) {}
  virtual void OnSessionExpired(std::string_view client_id) {}
  virtual void OnWillSent(std::string_view client_id, const MessageView& will) {}
  virtual void OnRetainedStored(const MessageView& message) {}  // empty payload: deleted
  // reason: queue_full, expired, no_subscribers, too_large, not_authorized, slow_consumer,
  // memory, hook.
  virtual void OnMessageDropped(std::string_view reason) {}
};

}  // namespace meshmq
