#include "auth/acl.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "temp_dir.h"

namespace meshmq::auth {
namespace {

using ::testing::HasSubstr;

Acl MustParse(const std::string& text) {
  absl::StatusOr<Acl> acl = Acl::Parse(text, "acl");
  EXPECT_TRUE(acl.ok()) << acl.status();
  return acl.ok() ? *std::move(acl) : Acl();
}

ClientInfo User(std::string_view name, std::string_view client_id = "c1",
                std::string_view address = "127.0.0.1") {
  return ClientInfo{name, true, client_id, address};
}

ClientInfo Anonymous(std::string_view client_id = "c1", std::string_view address = "127.0.0.1") {
  return ClientInfo{"", false, client_id, address};
}

constexpr Action kPub = Action::kPublish;
constexpr Action kSub = Action::kSubscribe;

TEST(AclTest, NoFileAllowsEverything) {
  const Acl acl;
  EXPECT_TRUE(acl.Allowed(Anonymous(), kPub, "a/b"));
  EXPECT_TRUE(acl.Allowed(Anonymous(), kSub, "#"));
}

TEST(AclTest, FileWithoutDefaultDeniesUnmatched) {
  const Acl acl = MustParse("allow publish any a/b\n");
  EXPECT_EQ(acl.default_effect(), Acl::Effect::kDeny);
  EXPECT_TRUE(acl.Allowed(Anonymous(), kPub, "a/b"));
  EXPECT_FALSE(acl.Allowed(Anonymous(), kPub, "a/c"));
  EXPECT_FALSE(acl.Allowed(Anonymous(), kSub, "a/b"));  // publish-only rule
}

TEST(AclTest, DefaultAllowAndDeny) {
  EXPECT_TRUE(MustParse("default allow\n").Allowed(Anonymous(), kPub, "x"));
  EXPECT_FALSE(MustParse("default deny\n").Allowed(Anonymous(), kPub, "x"));
  const Acl acl = MustParse("deny publish any secret/#\ndefault allow\n");
  EXPECT_FALSE(acl.Allowed(Anonymous(), kPub, "secret/x"));
  EXPECT_TRUE(acl.Allowed(Anonymous(), kPub, "public/x"));
}

TEST(AclTest, UserRule) {
  const Acl acl = MustParse("allow all user alice alice/#\n");
  EXPECT_TRUE(acl.Allowed(User("alice"), kPub, "alice/x"));
  EXPECT_TRUE(acl.Allowed(User("alice"), kSub, "alice/+"));
  EXPECT_FALSE(acl.Allowed(User("bob"), kPub, "alice/x"));
  EXPECT_FALSE(acl.Allowed(User("alicex"), kPub, "alice/x"));
  EXPECT_FALSE(acl.Allowed(Anonymous(), kPub, "alice/x"));
  EXPECT_FALSE(acl.Allowed(Anonymous("alice"), kPub, "alice/x"));  // a client id is not a user
}

TEST(AclTest, ClientRule) {
  const Acl acl = MustParse("allow publish client sensor-1 sensors/1/#\n");
  EXPECT_TRUE(acl.Allowed(Anonymous("sensor-1"), kPub, "sensors/1/temp"));
  EXPECT_TRUE(acl.Allowed(User("anyone", "sensor-1"), kPub, "sensors/1/temp"));
  EXPECT_FALSE(acl.Allowed(Anonymous("sensor-2"), kPub, "sensors/1/temp"));
}

TEST(AclTest, AddressRuleWithCidrAndIpv6) {
  const Acl acl = MustParse(
      "allow publish address 10.0.0.0/8 lan/#\n"
      "allow publish address 192.168.1.7 host/#\n"
      "allow publish address fd00::/8 v6/#\n"
      "allow publish address ::1 loop6/#\n");
  EXPECT_TRUE(acl.Allowed(Anonymous("c", "10.200.3.4"), kPub, "lan/x"));
  EXPECT_TRUE(acl.Allowed(Anonymous("c", "::ffff:10.1.1.1"), kPub, "lan/x"));  // v4-mapped
  EXPECT_FALSE(acl.Allowed(Anonymous("c", "11.0.0.1"), kPub, "lan/x"));
  EXPECT_TRUE(acl.Allowed(Anonymous("c", "192.168.1.7"), kPub, "host/x"));
  EXPECT_FALSE(acl.Allowed(Anonymous("c", "192.168.1.8"), kPub, "host/x"));
  EXPECT_TRUE(acl.Allowed(Anonymous("c", "fd12::5"), kPub, "v6/x"));
  EXPECT_FALSE(acl.Allowed(Anonymous("c", "fe80::1"), kPub, "v6/x"));
  EXPECT_TRUE(acl.Allowed(Anonymous("c", "[::1]"), kPub, "loop6/x"));
  EXPECT_FALSE(acl.Allowed(Anonymous("c", "not-an-ip"), kPub, "lan/x"));
  EXPECT_FALSE(acl.Allowed(Anonymous("c", ""), kPub, "lan/x"));
}

TEST(AddressRangeTest, PrefixBoundaries) {
  const auto range = AddressRange::Parse("172.16.0.0/12");
  ASSERT_TRUE(range.has_value());
  EXPECT_TRUE(range->Contains("172.31.255.255"));
  EXPECT_FALSE(range->Contains("172.32.0.0"));
  EXPECT_TRUE(AddressRange::Parse("0.0.0.0/0")->Contains("8.8.8.8"));
  EXPECT_FALSE(AddressRange::Parse("0.0.0.0/0")->Contains("::2"));  // families stay apart
  EXPECT_FALSE(AddressRange::Parse("1.2.3.4/33").has_value());
  EXPECT_FALSE(AddressRange::Parse("1.2.3.4/").has_value());
  EXPECT_FALSE(AddressRange::Parse("1.2.3/8").has_value());
  EXPECT_TRUE(AddressRange::Parse("::/128").has_value());
}

TEST(AddressRangeTest, PeerIpDropsThePort) {
  EXPECT_EQ(PeerIp("10.1.2.3:5555"), "10.1.2.3");
  EXPECT_EQ(PeerIp("10.1.2.3"), "10.1.2.3");
  EXPECT_EQ(PeerIp("[::1]:5555"), "::1");
  EXPECT_EQ(PeerIp("[fd00::1]"), "fd00::1");
  EXPECT_EQ(PeerIp("fd00::1"), "fd00::1");
  EXPECT_TRUE(AddressRange::Parse("10.0.0.0/8")->Contains("10.1.2.3:5555"));
  EXPECT_TRUE(AddressRange::Parse("::1")->Contains("[::1]:5555"));
}

TEST(AclTest, AnyRuleAndActions) {
  const Acl acl = MustParse(
      "allow subscribe any news/#\n"
      "allow publish any inbox\n"
      "allow all any both/+\n");
  EXPECT_TRUE(acl.Allowed(Anonymous(), kSub, "news/today"));
  EXPECT_FALSE(acl.Allowed(Anonymous(), kPub, "news/today"));
  EXPECT_TRUE(acl.Allowed(Anonymous(), kPub, "inbox"));
  EXPECT_FALSE(acl.Allowed(Anonymous(), kSub, "inbox"));
  EXPECT_TRUE(acl.Allowed(Anonymous(), kPub, "both/x"));
  EXPECT_TRUE(acl.Allowed(Anonymous(), kSub, "both/x"));
}

TEST(AclTest, FirstMatchWins) {
  const Acl allow_first = MustParse("allow publish any a/#\ndeny publish any a/b\n");
  EXPECT_TRUE(allow_first.Allowed(Anonymous(), kPub, "a/b"));
  const Acl deny_first = MustParse("deny publish any a/b\nallow publish any a/#\n");
  EXPECT_FALSE(deny_first.Allowed(Anonymous(), kPub, "a/b"));
  EXPECT_TRUE(deny_first.Allowed(Anonymous(), kPub, "a/c"));
  // A rule for someone else is skipped, not a match.
  const Acl other = MustParse("deny publish user bob a/#\nallow publish any a/#\n");
  EXPECT_TRUE(other.Allowed(User("alice"), kPub, "a/b"));
  EXPECT_FALSE(other.Allowed(User("bob"), kPub, "a/b"));
}

TEST(AclTest, SubscribeScopeFollowsCoverage) {
  const Acl acl = MustParse("allow subscribe any a/#\nallow subscribe any x/+\n");
  using Scope = Acl::Scope;
  EXPECT_EQ(acl.SubscribeScope(Anonymous(), "a/b/c"), Scope::kAll);
  EXPECT_EQ(acl.SubscribeScope(Anonymous(), "a/+/c"), Scope::kAll);
  EXPECT_EQ(acl.SubscribeScope(Anonymous(), "a/#"), Scope::kAll);
  EXPECT_EQ(acl.SubscribeScope(Anonymous(), "#"), Scope::kSome);    // only a/... and x/+
  EXPECT_EQ(acl.SubscribeScope(Anonymous(), "x/#"), Scope::kSome);  // x/+ does not cover x/#
  EXPECT_EQ(acl.SubscribeScope(Anonymous(), "b/#"), Scope::kNone);
  EXPECT_EQ(acl.SubscribeScope(Anonymous(), "$share/g/a/b"), Scope::kAll);
  EXPECT_EQ(acl.SubscribeScope(Anonymous(), "$share/a/b"), Scope::kNone);  // group "a", filter "b"
  EXPECT_TRUE(acl.Allowed(Anonymous(), kSub, "#"));  // granted, filtered per message
  EXPECT_FALSE(acl.Allowed(Anonymous(), kSub, "b/c"));
  EXPECT_TRUE(acl.MayReceive(Anonymous(), "x/1"));
  EXPECT_FALSE(acl.MayReceive(Anonymous(), "x/1/2"));
  EXPECT_FALSE(acl.MayReceive(Anonymous(), "b/c"));
}

TEST(AclTest, SubscribeDenyFiltersOverlappingRequests) {
  const Acl acl = MustParse("deny subscribe any secret/#\nallow subscribe any #\n");
  using Scope = Acl::Scope;
  EXPECT_EQ(acl.SubscribeScope(Anonymous(), "#"), Scope::kSome);  // everything but secret/...
  EXPECT_EQ(acl.SubscribeScope(Anonymous(), "+/x"), Scope::kSome);
  EXPECT_EQ(acl.SubscribeScope(Anonymous(), "$share/g/secret/+"), Scope::kNone);
  EXPECT_EQ(acl.SubscribeScope(Anonymous(), "secret"), Scope::kNone);  // "secret/#" covers "secret"
  EXPECT_EQ(acl.SubscribeScope(Anonymous(), "public/#"), Scope::kAll);
  EXPECT_FALSE(acl.MayReceive(Anonymous(), "secret/x"));
  EXPECT_TRUE(acl.MayReceive(Anonymous(), "public/x"));
  // A later rule cannot undo an earlier one: the deny decides for the topics it covers.
  const Acl allow_first = MustParse("allow subscribe any a/b\ndeny subscribe any a/#\n");
  EXPECT_EQ(allow_first.SubscribeScope(Anonymous(), "a/+"), Scope::kSome);
  EXPECT_TRUE(allow_first.MayReceive(Anonymous(), "a/b"));
  EXPECT_FALSE(allow_first.MayReceive(Anonymous(), "a/c"));
}

TEST(AclTest, HideDenialsDirective) {
  EXPECT_FALSE(MustParse("allow all any #\n").hide_denials());
  EXPECT_TRUE(MustParse("hide-denials yes\nallow all any #\n").hide_denials());
  EXPECT_FALSE(MustParse("hide-denials no\n").hide_denials());
  absl::StatusOr<Acl> bad = Acl::Parse("hide-denials maybe\n", "acl.txt");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("acl.txt:1"), std::string::npos);
}

TEST(AclTest, HashDoesNotGrantDollarTopics) {
  const Acl acl = MustParse("allow all any #\n");
  EXPECT_TRUE(acl.Allowed(Anonymous(), kSub, "#"));
  EXPECT_TRUE(acl.Allowed(Anonymous(), kPub, "a/b"));
  EXPECT_FALSE(acl.Allowed(Anonymous(), kSub, "$SYS/#"));
  EXPECT_FALSE(acl.Allowed(Anonymous(), kPub, "$SYS/x"));
  const Acl sys = MustParse("allow subscribe user admin $SYS/#\n");
  EXPECT_TRUE(sys.Allowed(User("admin"), kSub, "$SYS/broker/+"));
}

TEST(AclTest, UserAndClientSubstitution) {
  const Acl acl = MustParse(
      "allow all any users/%u/#\n"
      "allow publish any devices/%c/telemetry\n"
      "allow publish any pct/%%u\n");
  EXPECT_TRUE(acl.Allowed(User("alice"), kPub, "users/alice/x"));
  EXPECT_TRUE(acl.Allowed(User("alice"), kSub, "users/alice/#"));
  EXPECT_FALSE(acl.Allowed(User("alice"), kPub, "users/bob/x"));
  EXPECT_EQ(acl.SubscribeScope(User("alice"), "users/+/x"), Acl::Scope::kSome);
  EXPECT_FALSE(acl.MayReceive(User("alice"), "users/bob/x"));
  EXPECT_FALSE(acl.Allowed(User("alice"), kSub, "users/bob/+"));
  EXPECT_FALSE(acl.Allowed(Anonymous(), kPub, "users//x"));  // %u never matches no user name
  EXPECT_FALSE(acl.Allowed(Anonymous(), kPub, "users/%u/x"));
  EXPECT_FALSE(acl.Allowed(User(""), kPub, "users//x"));  // empty user name: no match either
  EXPECT_TRUE(acl.Allowed(Anonymous("dev9"), kPub, "devices/dev9/telemetry"));
  EXPECT_FALSE(acl.Allowed(Anonymous("dev9"), kPub, "devices/dev8/telemetry"));
  EXPECT_TRUE(acl.Allowed(Anonymous(), kPub, "pct/%u"));
}

TEST(AclTest, SubstitutedValuesCannotWidenAllowRules) {
  const Acl acl = MustParse("allow all any users/%u/data\nallow all any dev/%c/#\n");
  // A user named "+" would otherwise be granted users/+/data, i.e. everyone's data.
  EXPECT_FALSE(acl.Allowed(User("+"), kSub, "users/+/data"));
  EXPECT_FALSE(acl.Allowed(User("#"), kSub, "users/#"));
  EXPECT_FALSE(acl.Allowed(User("a/b"), kPub, "users/a/b/data"));
  EXPECT_FALSE(acl.Allowed(User("a+"), kPub, "users/a+/data"));
  EXPECT_FALSE(acl.Allowed(Anonymous("#"), kSub, "dev/#"));
  EXPECT_FALSE(acl.Allowed(Anonymous("x/y"), kPub, "dev/x/y/z"));
  EXPECT_TRUE(acl.Allowed(User("a.b-c"), kPub, "users/a.b-c/data"));
}

TEST(AclTest, DenyRulesWithoutSafeValueFailClosed) {
  const Acl acl = MustParse("deny publish any home/%u/config\nallow all any #\n");
  EXPECT_FALSE(acl.Allowed(User("alice"), kPub, "home/alice/config"));
  EXPECT_TRUE(acl.Allowed(User("alice"), kPub, "home/bob/config"));
  // No usable user name: the deny rule covers home/# rather than nothing.
  EXPECT_FALSE(acl.Allowed(Anonymous(), kPub, "home/bob/config"));
  EXPECT_FALSE(acl.Allowed(User("a/b"), kPub, "home/a/b/config"));
  EXPECT_TRUE(acl.Allowed(Anonymous(), kPub, "other/x"));
  Acl::Rule rule;
  rule.effect = Acl::Effect::kDeny;
  rule.filter = "a/x%u/b";
  EXPECT_EQ(SubstituteFilter(rule, Anonymous()), "a/#");
  rule.effect = Acl::Effect::kAllow;
  EXPECT_EQ(SubstituteFilter(rule, Anonymous()), std::nullopt);
  EXPECT_EQ(SubstituteFilter(rule, User("u")), "a/xu/b");
}

TEST(AclTest, ParseErrorsNameFileAndLine) {
  const struct {
    const char* text;
    const char* expected;
  } cases[] = {
      {"permit publish any a", "acl:1: expected allow, deny or default"},
      {"# c\n\nallow read any a", "acl:3: expected publish, subscribe or all"},
      {"allow publish group x a", "acl:1: expected user, client, address or any"},
      {"allow publish user", "acl:1: user needs a value"},
      {"allow publish address 10.0.0.0/40 a", "acl:1: invalid IP address or CIDR"},
      {"allow publish any", "acl:1: missing topic filter"},
      {"allow publish any a/#/b", "acl:1: invalid topic filter"},
      {"allow all any # everything", "acl:1: invalid topic filter"},  // no trailing comments
      {"allow publish any a/%x", "acl:1: '%' must be followed by u, c or %"},
      {"default allow\ndefault deny", "acl:2: duplicate default"},
      {"default maybe", "acl:1: expected allow, deny or default"},
      {"default allow now", "acl:1: unexpected text after default"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<Acl> acl = Acl::Parse(c.text, "acl");
    ASSERT_FALSE(acl.ok()) << c.text;
    EXPECT_THAT(std::string(acl.status().message()), HasSubstr(c.expected)) << c.text;
  }
}

TEST(AclTest, LoadKeepsFilterSpacesAndRuleLines) {
  testing::TempDir dir;
  const std::string path = dir.Write("acl", "# rules\n  allow   publish  any  a b/c  \r\n");
  absl::StatusOr<Acl> acl = Acl::Load(path);
  ASSERT_TRUE(acl.ok()) << acl.status();
  ASSERT_EQ(acl->rules().size(), 1u);
  EXPECT_EQ(acl->rules()[0].filter, "a b/c");
  EXPECT_EQ(acl->rules()[0].line, 2);
  EXPECT_TRUE(acl->Allowed(Anonymous(), kPub, "a b/c"));
  EXPECT_EQ(Acl::Load(dir.File("missing")).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace meshmq::auth

namespace meshmq::auth {
namespace {

TEST(AclMatch, ExplicitRulesOnlyTheDefaultIsLeftOpen) {
  auto acl = Acl::Parse("default deny\nallow publish any a/#\ndeny subscribe any s/#\n", "t");
  ASSERT_TRUE(acl.ok());
  ClientInfo who{"u", true, "c", "127.0.0.1"};
  EXPECT_EQ(acl->Match(who, Action::kPublish, "a/b"), true);
  EXPECT_EQ(acl->Match(who, Action::kSubscribe, "s/x"), false);
  EXPECT_EQ(acl->Match(who, Action::kPublish, "other"), std::nullopt);  // for the HTTP ACL
  EXPECT_FALSE(acl->Allowed(who, Action::kPublish, "other"));           // the default
}

}  // namespace
}  // namespace meshmq::auth
