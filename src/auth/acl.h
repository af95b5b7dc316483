// The access-control list: ordered allow/deny rules for publish and subscribe, first match
// wins (format in docs/security.md):
//
//   default deny
//   allow all       user admin        #
//   allow publish   any               devices/%c/telemetry
//   deny  subscribe address 10.0.0.0/8 secret/#
//   allow all       any               users/%u/#   <- %u: the client's own user name
//   hide-denials    yes                                <- refusals say 0x80, not 0x87
//
// Immutable after Load; Allowed() may be called from any shard thread concurrently.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "auth/address_range.h"
#include "auth/client_info.h"

namespace meshmq::auth {

class Acl {
 public:
  enum class Effect { kAllow, kDeny };
  enum class Actions { kPublish, kSubscribe, kAll };
  enum class Who { kUser, kClient, kAddress, kAny };
  // How much of a requested subscription the rules let through (see SubscribeScope()).
  enum class Scope { kNone, kSome, kAll };

  struct Rule {
    Effect effect = Effect::kDeny;
    Actions actions = Actions::kAll;
    Who who = Who::kAny;
    std::string name;                   // user name or client id (kUser, kClient)
    std::optional<AddressRange> range;  // kAddress
    std::string filter;                 // may contain %u and %c
    int line = 0;                       // for diagnostics
  };

  // Parses `path`; errors name "path:line".
  static absl::StatusOr<Acl> Load(const std::string& path);
  static absl::StatusOr<Acl> Parse(std::string_view text, std::string_view origin);

  // An ACL with no rules and the given default: what the broker uses without an ACL file.
  explicit Acl(Effect default_effect = Effect::kAllow) : default_(default_effect) {}

  // Publish: first rule whose filter matches the topic name decides. Subscribe: true unless
  // SubscribeScope() is kNone, i.e. the subscription may be granted.
  bool Allowed(const ClientInfo& who, Action action, std::string_view topic_or_filter) const;

  // Subscribe: kAll when the rules allow every topic the filter can match (no per-message check
  // needed), kNone when they allow none of them (the SUBSCRIBE is refused), kSome otherwise:
  // the subscription is granted and each message is checked with MayReceive(), the way
  // Mosquitto filters a "#" subscription under "deny secret/#". "$share/group/" is stripped.
  Scope SubscribeScope(const ClientInfo& who, std::string_view filter) const;

  // Delivery of a message on `topic` to a kSome subscription: the first subscribe rule whose
  // filter matches the topic decides, else the default.
  bool MayReceive(const ClientInfo& who, std::string_view topic) const;

  // "hide-denials yes": refusals carry 0x80 Unspecified error instead of 0x87 Not authorized,
  // which MQTT 5 allows when the server does not wish to reveal the reason (a client cannot
  // probe which topics a rule protects).
  bool hide_denials() const { return hide_denials_; }
  // The verdict of the first matching rule, or nullopt when no rule matches (the default is not
  // applied): the HTTP ACL backend decides those (docs/extending.md, "Order of the checks").
  std::optional<bool> Match(const ClientInfo& who, Action action,
                            std::string_view topic_or_filter) const;

  Effect default_effect() const { return default_; }
  const std::vector<Rule>& rules() const { return rules_; }

 private:
  // First rule for `action` whose filter matches the topic name, or nullopt when none does.
  std::optional<bool> TopicMatch(const ClientInfo& who, Action action,
                                 std::string_view topic) const;
  // The subscribe rules walked for a requested filter: `decided` once a rule covers all of it,
  // else what the partly overlapping rules said.
  struct SubscribeWalk {
    std::optional<Scope> decided;
    bool some_allowed = false;
    bool some_denied = false;
  };
  SubscribeWalk WalkSubscribe(const ClientInfo& who, std::string_view requested) const;

  Effect default_;
  bool hide_denials_ = false;
  std::vector<Rule> rules_;
};

// The rule's filter with %u and %c replaced for this client, or nullopt when the rule cannot
// apply to it (see docs/security.md, "Substitution"). Exposed for tests.
std::optional<std::string> SubstituteFilter(const Acl::Rule& rule, const ClientInfo& who);

}  // namespace meshmq::auth
