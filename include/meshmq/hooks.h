// meshmq hooks: C++ callbacks that decide logins, rights and messages, or watch what happens.
// Public API: only the standard library here (docs/embedding.md).
//
// Threading: every method runs on the shard thread that owns the client concerned (session
// expiry and retained-store events: on the thread that caused them). A hook must not block: it
// shares that thread with thousands of clients. Blocking work (a database, an HTTP call) belongs
// in OnAuthenticate or OnAclFetch, which may complete later from any thread. Hooks are added
// before Start() and called concurrently from every shard, so their own state needs its own
// synchronisation.
//
// meshmq's own password file / HTTP login ("builtin-auth") and ACL file / HTTP ACL
// ("builtin-acl") are hooks of this same chain (Server::Hooks(), docs/embedding.md).
#pragma once

#include <cstdint>
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
// An ACL verdict fetched by OnAclFetch; same rules as AuthDone.
using AclDone = std::function<void(Decision)>;

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
  // In logs and in meshmq_hook_failures_total{hook="<kind>"}; "builtin-auth" and "builtin-acl"
  // are meshmq's own.
  virtual std::string name() const { return "hook"; }

  // The optional calls this hook takes part in, read once when it is added: the broker skips the
  // per-packet and per-message work of the others (the publish path pays nothing for them).
  struct Features {
    bool async_acl = false;     // AclNeedsFetch / OnAclFetch
    bool delivery_acl = false;  // OnAclGrantsAll / OnAclDeliver / AclVersion
    bool deliver = true;        // OnDeliver (on by default: every delivery builds a ClientInfo)
  };
  virtual Features features() const { return {}; }

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

  // --- Asynchronous ACL (features().async_acl): answers that need I/O (an HTTP service).
  // Asked when a PUBLISH or SUBSCRIBE arrives (a will's topic at CONNECT), before it is handled,
  // once per topic or filter: true when OnAclCheck could not answer it now. The broker then calls
  // OnAclFetch and holds this client's packets (in order, bounded) until every verdict is in;
  // that verdict stands in for this hook's OnAclCheck for that one packet. Must be quick.
  virtual bool AclNeedsFetch(const ClientInfo& client, Action action, const std::string& topic) {
    return false;
  }
  // Starts the request; `done` exactly once, from any thread (a throw or a second call: deny /
  // ignored). `client` and `topic` are valid during the call only.
  virtual void OnAclFetch(const ClientInfo& client, Action action, const std::string& topic,
                          AclDone done) {
    done(Decision::kNoOpinion);
  }

  // --- Delivery-side ACL (features().delivery_acl), on the subscriber's shard. A filter an ACL
  // grants only in part ("#" under a rule "deny secret/#") is granted, and each message it
  // matches is checked; a filter granted in full skips the check.
  // When a filter is granted (or restored): true if every topic it can match may reach this
  // subscriber under the rules of AclVersion(). A throw counts as false. Superusers are never
  // checked per message.
  virtual bool OnAclGrantsAll(const ClientInfo& subscriber, const std::string& filter) {
    return true;
  }
  // Each message on a subscription that some delivery-ACL hook did not grant in full (or granted
  // under an older AclVersion()), hooks in order until one has an opinion; kDeny withholds it
  // (meshmq_messages_dropped_total{reason="not_authorized"}). A throw denies.
  virtual Decision OnAclDeliver(const ClientInfo& subscriber, std::string_view topic) {
    return Decision::kNoOpinion;
  }
  // The version of this hook's rules; it may only grow. A new value (the rules were reloaded)
  // makes every earlier OnAclGrantsAll answer stale. Read on every delivery: keep it one atomic
  // load.
  virtual uint64_t AclVersion() const { return 0; }

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
  // One delivery to one subscriber (online or queued); false skips that subscriber. Only for
  // hooks with features().deliver.
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
