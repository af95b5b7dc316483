// The access-control list: ordered allow/deny rules for publish and subscribe, first match
// wins (format in docs/security.md):
//
//   default deny
//   allow all       user admin        #
//   allow publish   any               devices/%c/telemetry
//   deny  subscribe address 10.0.0.0/8 secret/#
//   allow all       any               users/%u/#   <- %u: the client's own user name
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

  // Publish: the rule filter must match the topic name. Subscribe: an allow rule must cover
  // every topic the requested filter can match; a deny rule applies as soon as its filter
  // overlaps the requested one (so "deny secret/#" then "allow #" refuses a request for "#").
  // "$share/group/" is stripped from subscribe filters first.
  bool Allowed(const ClientInfo& who, Action action, std::string_view topic_or_filter) const;

  // The verdict of the first matching rule, or nullopt when no rule matches (the default is not
  // applied): the HTTP ACL backend decides those (docs/extending.md, "Order of the checks").
  std::optional<bool> Match(const ClientInfo& who, Action action,
                            std::string_view topic_or_filter) const;

  Effect default_effect() const { return default_; }
  const std::vector<Rule>& rules() const { return rules_; }

 private:
  Effect default_;
  std::vector<Rule> rules_;
};

// The rule's filter with %u and %c replaced for this client, or nullopt when the rule cannot
// apply to it (see docs/security.md, "Substitution"). Exposed for tests.
std::optional<std::string> SubstituteFilter(const Acl::Rule& rule, const ClientInfo& who);

}  // namespace meshmq::auth
