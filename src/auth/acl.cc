#include "auth/acl.h"

#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "auth/text.h"
#include "auth/topic_filter.h"

namespace meshmq::auth {
namespace {

// A value is safe to splice into a filter only if it cannot add levels or wildcards.
bool SafeValue(std::string_view v) { return !v.empty() && v.find_first_of("+#/") == v.npos; }

bool ActionMatches(Acl::Actions actions, Action action) {
  if (actions == Acl::Actions::kAll) return true;
  return (actions == Acl::Actions::kPublish) == (action == Action::kPublish);
}

bool WhoMatches(const Acl::Rule& rule, const ClientInfo& who) {
  switch (rule.who) {
    case Acl::Who::kUser:
      return who.has_username && who.username == rule.name;
    case Acl::Who::kClient:
      return who.client_id == rule.name;
    case Acl::Who::kAddress:
      return rule.range->Contains(who.address);
    case Acl::Who::kAny:
      return true;
  }
  return false;
}

// Filter template checks: only %u, %c and %% escapes, and the filter is well formed once the
// placeholders stand for one plain level fragment each.
absl::Status CheckFilterTemplate(std::string_view filter) {
  for (size_t i = 0; i < filter.size(); ++i) {
    if (filter[i] != '%') continue;
    if (i + 1 == filter.size() ||
        std::string_view("uc%").find(filter[i + 1]) == std::string_view::npos) {
      return absl::InvalidArgumentError("'%' must be followed by u, c or % in a topic filter");
    }
    ++i;
  }
  if (!IsValidFilter(filter)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid topic filter '", absl::CHexEscape(A(filter)), "'"));
  }
  return absl::OkStatus();
}

struct ParsedRule {
  std::optional<Acl::Rule> rule;
  std::optional<Acl::Effect> default_effect;
  std::optional<bool> hide_denials;
};

absl::StatusOr<Acl::Effect> ParseEffect(std::string_view word) {
  if (word == "allow") return Acl::Effect::kAllow;
  if (word == "deny") return Acl::Effect::kDeny;
  return absl::InvalidArgumentError(
      absl::StrCat("expected allow, deny or default, got '", absl::CHexEscape(A(word)), "'"));
}

absl::StatusOr<Acl::Actions> ParseActions(std::string_view word) {
  if (word == "publish") return Acl::Actions::kPublish;
  if (word == "subscribe") return Acl::Actions::kSubscribe;
  if (word == "all") return Acl::Actions::kAll;
  return absl::InvalidArgumentError(
      absl::StrCat("expected publish, subscribe or all, got '", absl::CHexEscape(A(word)), "'"));
}

// Fills rule.who, name/range from "user N", "client N", "address R" or "any".
absl::Status ParseWho(std::string_view* rest, Acl::Rule* rule) {
  const std::string_view kind = NextToken(rest);
  if (kind == "any") {
    rule->who = Acl::Who::kAny;
    return absl::OkStatus();
  }
  const std::string_view name = NextToken(rest);
  if (kind != "user" && kind != "client" && kind != "address") {
    return absl::InvalidArgumentError(absl::StrCat("expected user, client, address or any, got '",
                                                   absl::CHexEscape(A(kind)), "'"));
  }
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(A(kind), " needs a value"));
  if (kind == "address") {
    rule->who = Acl::Who::kAddress;
    rule->range = AddressRange::Parse(name);
    if (!rule->range) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid IP address or CIDR '", absl::CHexEscape(A(name)), "'"));
    }
    return absl::OkStatus();
  }
  rule->who = kind == "user" ? Acl::Who::kUser : Acl::Who::kClient;
  rule->name = std::string(name);
  return absl::OkStatus();
}

absl::StatusOr<ParsedRule> ParseLine(std::string_view line) {
  std::string_view rest = line;
  const std::string_view first = NextToken(&rest);
  ParsedRule parsed;
  if (first == "hide-denials") {
    const std::string_view value = NextToken(&rest);
    if ((value != "yes" && value != "no") || !Trim(rest).empty()) {
      return absl::InvalidArgumentError("hide-denials takes yes or no");
    }
    parsed.hide_denials = value == "yes";
    return parsed;
  }
  if (first == "default") {
    absl::StatusOr<Acl::Effect> effect = ParseEffect(NextToken(&rest));
    if (!effect.ok()) return effect.status();
    if (!Trim(rest).empty()) return absl::InvalidArgumentError("unexpected text after default");
    parsed.default_effect = *effect;
    return parsed;
  }
  Acl::Rule rule;
  absl::StatusOr<Acl::Effect> effect = ParseEffect(first);
  if (!effect.ok()) return effect.status();
  rule.effect = *effect;
  absl::StatusOr<Acl::Actions> actions = ParseActions(NextToken(&rest));
  if (!actions.ok()) return actions.status();
  rule.actions = *actions;
  if (absl::Status who = ParseWho(&rest, &rule); !who.ok()) return who;
  rule.filter = std::string(Trim(rest));  // the rest of the line: filters may contain spaces
  if (rule.filter.empty()) return absl::InvalidArgumentError("missing topic filter");
  if (absl::Status f = CheckFilterTemplate(rule.filter); !f.ok()) return f;
  parsed.rule = std::move(rule);
  return parsed;
}

}  // namespace

std::optional<std::string> SubstituteFilter(const Acl::Rule& rule, const ClientInfo& who) {
  const std::string_view filter = rule.filter;
  std::string out;
  for (size_t i = 0; i < filter.size(); ++i) {
    if (filter[i] != '%' || i + 1 == filter.size()) {
      out.push_back(filter[i]);
      continue;
    }
    const char code = filter[++i];
    if (code == '%') {
      out.push_back('%');
      continue;
    }
    const bool known = code == 'c' || who.has_username;
    const std::string_view value = code == 'u' ? who.username : who.client_id;
    if (known && SafeValue(value)) {
      out.append(value);
      continue;
    }
    // No safe value. An allow rule must not apply (it would grant more than intended); a deny
    // rule fails closed: it applies from this level down to everything below it.
    if (rule.effect == Acl::Effect::kAllow) return std::nullopt;
    const size_t slash = out.rfind('/');
    out.resize(slash == std::string::npos ? 0 : slash + 1);
    out.push_back('#');
    return out;
  }
  return out;
}

absl::StatusOr<Acl> Acl::Parse(std::string_view text, std::string_view origin) {
  Acl acl(Effect::kDeny);  // an ACL file without "default" denies what no rule allows
  bool have_default = false;
  int line_no = 0;
  for (std::string_view line : Split(text, '\n')) {
    ++line_no;
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    absl::StatusOr<ParsedRule> parsed = ParseLine(line);
    if (parsed.ok() && parsed->default_effect && have_default) {
      parsed = absl::InvalidArgumentError("duplicate default line");
    }
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(A(origin), ":", line_no, ": ", parsed.status().message()));
    }
    if (parsed->hide_denials) {
      acl.hide_denials_ = *parsed->hide_denials;
    } else if (parsed->default_effect) {
      acl.default_ = *parsed->default_effect;
      have_default = true;
    } else {
      parsed->rule->line = line_no;
      acl.rules_.push_back(*std::move(parsed->rule));
    }
  }
  return acl;
}

absl::StatusOr<Acl> Acl::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open ACL file"));
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::UnavailableError(absl::StrCat(path, ": read error"));
  return Parse(text.str(), path);
}

bool Acl::Allowed(const ClientInfo& who, Action action, std::string_view topic_or_filter) const {
  if (action == Action::kSubscribe) return SubscribeScope(who, topic_or_filter) != Scope::kNone;
  return TopicMatch(who, Action::kPublish, topic_or_filter).value_or(default_ == Effect::kAllow);
}

std::optional<bool> Acl::Match(const ClientInfo& who, Action action,
                               std::string_view topic_or_filter) const {
  if (action == Action::kPublish) return TopicMatch(who, action, topic_or_filter);
  const SubscribeWalk walk = WalkSubscribe(who, topic_or_filter);
  if (walk.decided) return *walk.decided != Scope::kNone;
  // Rules reach part of the filter: granted and filtered per message. No rule reaches it at all:
  // undecided (the HTTP ACL backend, else the default, decides).
  if (walk.some_allowed) return true;
  return std::nullopt;
}

std::optional<bool> Acl::TopicMatch(const ClientInfo& who, Action action,
                                    std::string_view topic) const {
  for (const Rule& rule : rules_) {
    if (!ActionMatches(rule.actions, action) || !WhoMatches(rule, who)) continue;
    const std::optional<std::string> filter = SubstituteFilter(rule, who);
    if (filter && FilterCovers(*filter, topic)) return rule.effect == Effect::kAllow;
  }
  return std::nullopt;
}

Acl::SubscribeWalk Acl::WalkSubscribe(const ClientInfo& who, std::string_view requested) const {
  const std::string_view target = StripSharePrefix(requested);
  // Walk the rules as each topic of `target` would: a rule that covers the whole filter decides
  // for every topic not already decided by an earlier, partly overlapping rule.
  SubscribeWalk walk;
  for (const Rule& rule : rules_) {
    if (!ActionMatches(rule.actions, Action::kSubscribe) || !WhoMatches(rule, who)) continue;
    const std::optional<std::string> filter = SubstituteFilter(rule, who);
    if (!filter || !FiltersOverlap(*filter, target)) continue;
    const bool allow = rule.effect == Effect::kAllow;
    if (FilterCovers(*filter, target)) {
      if (allow) {
        walk.decided = walk.some_denied ? Scope::kSome : Scope::kAll;
      } else {
        walk.decided = walk.some_allowed ? Scope::kSome : Scope::kNone;
      }
      return walk;
    }
    (allow ? walk.some_allowed : walk.some_denied) = true;
  }
  return walk;
}

Acl::Scope Acl::SubscribeScope(const ClientInfo& who, std::string_view requested) const {
  const SubscribeWalk walk = WalkSubscribe(who, requested);
  if (walk.decided) return *walk.decided;
  if (default_ == Effect::kAllow) return walk.some_denied ? Scope::kSome : Scope::kAll;
  return walk.some_allowed ? Scope::kSome : Scope::kNone;
}

bool Acl::MayReceive(const ClientInfo& who, std::string_view topic) const {
  return TopicMatch(who, Action::kSubscribe, topic).value_or(default_ == Effect::kAllow);
}

}  // namespace meshmq::auth
