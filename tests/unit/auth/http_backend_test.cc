// The HTTP auth backend's pure parts: URL parsing, request bodies, reply parsing, the decision
// cache. The HTTP exchange itself is tested against a real server in
// tests/integration/http_auth_test.py.
#include "auth/http_backend.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "auth/decision_cache.h"
#include "auth/http_poster.h"

namespace meshmq::auth {
namespace {

using Json = nlohmann::json;

TEST(HttpUrl, ParsesHostPortAndPath) {
  auto u = HttpUrl::Parse("http://127.0.0.1:8080/mqtt/auth");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "8080");
  EXPECT_EQ(u->target, "/mqtt/auth");
  u = HttpUrl::Parse("http://auth.local");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, "80");
  EXPECT_EQ(u->target, "/");
  u = HttpUrl::Parse("http://[::1]:99/a");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "99");
}

TEST(HttpUrl, RejectsOtherSchemesAndBadPorts) {
  EXPECT_FALSE(HttpUrl::Parse("https://x/a"));
  EXPECT_FALSE(HttpUrl::Parse("x:80/a"));
  EXPECT_FALSE(HttpUrl::Parse("http://:80/a"));
  EXPECT_FALSE(HttpUrl::Parse("http://x:8o/a"));
}

TEST(HttpBodies, LoginCarriesIdentityPasswordAndVersion) {
  LoginRequest r{ClientInfo{"alice", true, "c1", "10.0.0.1"}, "pw", 5};
  Json j = Json::parse(LoginBody(r));
  EXPECT_EQ(j["clientid"], "c1");
  EXPECT_EQ(j["username"], "alice");
  EXPECT_EQ(j["password"], "pw");
  EXPECT_EQ(j["address"], "10.0.0.1");
  EXPECT_EQ(j["protocol_version"], 5);
  LoginRequest anonymous{ClientInfo{"", false, "c2", "::1"}, std::nullopt, 4};
  j = Json::parse(LoginBody(anonymous));
  EXPECT_TRUE(j["username"].is_null());
  EXPECT_TRUE(j["password"].is_null());
}

TEST(HttpBodies, BinaryPasswordStillMakesValidJson) {
  LoginRequest r{ClientInfo{"u", true, "c", "a"}, std::string_view("\xff\xfe", 2), 5};
  EXPECT_NO_THROW(Json::parse(LoginBody(r)));
}

TEST(HttpBodies, AclCarriesTopicAndAction) {
  Json j = Json::parse(AclBody(ClientInfo{"bob", true, "c9", "1.2.3.4"}, Action::kSubscribe, "a/#"));
  EXPECT_EQ(j["topic"], "a/#");
  EXPECT_EQ(j["action"], "subscribe");
  EXPECT_EQ(j["username"], "bob");
  j = Json::parse(AclBody(ClientInfo{}, Action::kPublish, "t"));
  EXPECT_EQ(j["action"], "publish");
}

TEST(ParseDecision, AllowDenySuperuserReason) {
  auto d = ParseDecision(R"({"result":"allow"})");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->allow);
  EXPECT_FALSE(d->superuser);
  d = ParseDecision(R"({"result":"allow","superuser":true})");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->superuser);
  d = ParseDecision(R"({"result":"deny","superuser":true})");
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->allow);
  EXPECT_FALSE(d->superuser);  // a denied client is never a superuser
  EXPECT_FALSE(d->not_authorized);
  d = ParseDecision(R"({"result":"deny","reason":"not_authorized"})");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->not_authorized);
}

TEST(ParseDecision, MalformedRepliesAreNotDecisions) {
  EXPECT_FALSE(ParseDecision(""));
  EXPECT_FALSE(ParseDecision("allow"));
  EXPECT_FALSE(ParseDecision("[]"));
  EXPECT_FALSE(ParseDecision(R"({"result":true})"));
  EXPECT_FALSE(ParseDecision(R"({"result":"maybe"})"));
  EXPECT_FALSE(ParseDecision(R"({"allow":true})"));
}

TEST(DecisionCache, HitsWithinTtlAndExpiresAfter) {
  using Clock = DecisionCache::Clock;
  DecisionCache cache(std::chrono::seconds(10), 1000);
  const Clock::time_point t0 = Clock::now();
  cache.Put("k", Decision{true, false, false}, t0);
  cache.Put("n", Decision{false, false, false}, t0);  // negative answers are cached too
  ASSERT_TRUE(cache.Find("k", t0 + std::chrono::seconds(9)));
  EXPECT_TRUE(cache.Find("k", t0 + std::chrono::seconds(9))->allow);
  ASSERT_TRUE(cache.Find("n", t0 + std::chrono::seconds(9)));
  EXPECT_FALSE(cache.Find("n", t0 + std::chrono::seconds(9))->allow);
  EXPECT_FALSE(cache.Find("k", t0 + std::chrono::seconds(10)));
  EXPECT_FALSE(cache.Find("other", t0));
}

TEST(DecisionCache, ZeroTtlCachesNothing) {
  DecisionCache cache(std::chrono::seconds(0), 1000);
  cache.Put("k", Decision{true, false, false});
  EXPECT_FALSE(cache.Find("k"));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(DecisionCache, StaysBounded) {
  DecisionCache cache(std::chrono::hours(1), 160);  // 10 per stripe
  for (int i = 0; i < 10000; ++i) cache.Put("key" + std::to_string(i), Decision{true, false, false});
  EXPECT_LE(cache.size(), 160u);
}

TEST(HttpAuthBackend, RejectsBadUrls) {
  HttpAuthOptions o;
  o.auth_url = "https://x/auth";
  EXPECT_FALSE(HttpAuthBackend::Create(o).ok());
  o.auth_url = "http://127.0.0.1:1/auth";
  o.acl_url = "ftp://x";
  EXPECT_FALSE(HttpAuthBackend::Create(o).ok());
}

}  // namespace
}  // namespace meshmq::auth
