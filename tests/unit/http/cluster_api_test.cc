// Cluster-wide admin views (?scope=cluster, ?node=) between two real HTTP servers on 127.0.0.1,
// each with a fake backend; and the embedded dashboard files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "http/dashboard_files.h"
#include "http/url.h"
#include "http_test_util.h"

namespace meshmq::http {
namespace {

using nlohmann::json;
using testing::FakeBackend;
using testing::Fetch;
using ::testing::HasSubstr;

constexpr char kToken[] = "s3cret";
const std::map<std::string, std::string> kAuth{{"Authorization", "Bearer s3cret"}};

ClientInfo Client(const std::string& id, const std::string& node) {
  ClientInfo c;
  c.client_id = id;
  c.node = node;
  c.protocol_version = 4;
  c.connected = true;
  return c;
}

NodeInfo Node(const std::string& id, const std::string& state, bool self, std::string http) {
  NodeInfo n;
  n.node_id = id;
  n.state = state;
  n.self = self;
  n.http_address = std::move(http);
  return n;
}

class ClusterApiTest : public ::testing::Test {
 protected:
  std::unique_ptr<HttpServer> Start(FakeBackend*& fake) {
    HttpServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.api.api_token = kToken;
    options.api.peer_timeout = std::chrono::milliseconds(500);
    auto backend = std::make_unique<FakeBackend>();
    fake = backend.get();
    auto server = std::make_unique<HttpServer>(std::move(options), std::move(backend));
    EXPECT_TRUE(server->Start().ok());
    return server;
  }

  void SetUp() override {
    a_ = Start(fa_);
    b_ = Start(fb_);
    std::string b_http = "127.0.0.1:" + std::to_string(b_->port());
    // n3 announced an address nobody listens on (port 1 is never ours); n4 is down.
    fa_->nodes = {Node("n1", "alive", true, ""), Node("n2", "alive", false, b_http),
                  Node("n3", "suspect", false, "127.0.0.1:1"), Node("n4", "down", false, "x:1")};
    fb_->nodes = {Node("n2", "alive", true, b_http), Node("n1", "alive", false, "")};
    fa_->clients = {Client("c", "n1"), Client("a", "n1")};
    fb_->clients = {Client("b", "n2"), Client("d", "n2"), Client("ab", "n2")};
    fb_->connected = {"b"};
    fa_->subscriptions = {{"$share/g/jobs", "a", 1, false, false, 0, 0}};
    fb_->subscriptions = {{"$share/g/jobs", "b", 1, false, false, 0, 0}};
    fa_->metrics.node_id = "n1";
    fb_->metrics.node_id = "n2";
  }

  json Get(const std::string& target, int want = 200) {
    auto r = Fetch(a_->port(), "GET", target, "", kAuth);
    EXPECT_EQ(want, r.status) << r.body;
    return json::parse(r.body);
  }

  FakeBackend *fa_ = nullptr, *fb_ = nullptr;
  std::unique_ptr<HttpServer> a_, b_;
};

TEST_F(ClusterApiTest, ClientsMergeEveryReachableNodeSortedAndPaged) {
  json page = Get("/api/v1/clients?scope=cluster&limit=3");
  EXPECT_EQ(5, page["total"]);
  std::vector<std::string> ids;
  for (const auto& c : page["items"]) ids.push_back(c["client_id"]);
  EXPECT_EQ((std::vector<std::string>{"a", "ab", "b"}), ids);
  EXPECT_EQ("n2", page["items"][1]["node"]);
  // n3 does not answer, n4 is down: named, not fatal.
  std::map<std::string, std::string> errors;
  for (const auto& e : page["errors"]) errors[e["node"]] = e["error"];
  ASSERT_EQ(2u, errors.size()) << page["errors"];
  EXPECT_THAT(errors["n3"], HasSubstr("refused"));
  EXPECT_THAT(errors["n4"], HasSubstr("down"));

  json second = Get("/api/v1/clients?scope=cluster&limit=3&offset=3");
  ASSERT_EQ(2u, second["items"].size());
  EXPECT_EQ("c", second["items"][0]["client_id"]);
  EXPECT_EQ("d", second["items"][1]["client_id"]);

  json prefixed = Get("/api/v1/clients?scope=cluster&prefix=a");
  EXPECT_EQ(2, prefixed["total"]);
}

TEST_F(ClusterApiTest, SubscriptionsAndStatsNameTheirNode) {
  json subs = Get("/api/v1/subscriptions?scope=cluster");
  ASSERT_EQ(2u, subs["items"].size());
  EXPECT_EQ("n1", subs["items"][0]["node"]);
  EXPECT_EQ("n2", subs["items"][1]["node"]);
  json stats = Get("/api/v1/stats?scope=cluster");
  ASSERT_EQ(2u, stats["nodes"].size());
  EXPECT_EQ("n1", stats["nodes"][0]["node_id"]);
  EXPECT_EQ("n2", stats["nodes"][1]["node_id"]);
  EXPECT_EQ(2u, stats["errors"].size());
}

TEST_F(ClusterApiTest, NodeParameterPassesTheRequestOnWithTheCallersToken) {
  auto r = Fetch(a_->port(), "DELETE", "/api/v1/clients/b?node=n2", "", kAuth);
  EXPECT_EQ(200, r.status) << r.body;
  {
    absl::MutexLock lock(&fb_->mu);
    EXPECT_EQ(std::vector<std::string>{"b"}, fb_->kicked);
  }
  EXPECT_EQ(404, Fetch(a_->port(), "DELETE", "/api/v1/clients/zz?node=n2", "", kAuth).status);
  // This node's own id: answered here.
  EXPECT_EQ(2, Get("/api/v1/clients?node=n1")["total"]);
  Get("/api/v1/clients?node=n9", 404);
  Get("/api/v1/clients?node=n3", 502);
  // No token: refused here before anything is passed on.
  EXPECT_EQ(401, Fetch(a_->port(), "DELETE", "/api/v1/clients/b?node=n2").status);
}

// Both nodes fan out to each other at the same moment: handlers run on a pool, so each can still
// answer the other's call instead of both timing out.
TEST_F(ClusterApiTest, NodesFanningOutToEachOtherBothAnswer) {
  std::string a_http = "127.0.0.1:" + std::to_string(a_->port());
  std::string b_http = "127.0.0.1:" + std::to_string(b_->port());
  fa_->nodes = {Node("n1", "alive", true, a_http), Node("n2", "alive", false, b_http)};
  fb_->nodes = {Node("n2", "alive", true, b_http), Node("n1", "alive", false, a_http)};
  for (int round = 0; round < 5; ++round) {
    json from_b;
    std::thread other([&] {
      from_b = json::parse(Fetch(b_->port(), "GET", "/api/v1/stats?scope=cluster", "", kAuth).body);
    });
    json from_a = Get("/api/v1/stats?scope=cluster");
    other.join();
    EXPECT_EQ(2u, from_a["nodes"].size()) << from_a["errors"];
    EXPECT_EQ(2u, from_b["nodes"].size()) << from_b["errors"];
  }
}

TEST_F(ClusterApiTest, BadScopeIs400) {
  Get("/api/v1/clients?scope=galaxy", 400);
  Get("/api/v1/routes?scope=cluster", 400);
  EXPECT_EQ(2, Get("/api/v1/clients?scope=local")["total"]);
}

TEST(DashboardFiles, RootServesTheDashboardOrSaysItIsMissing) {
  std::optional<HttpResponse> root = DashboardFile("/");
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(200, root->status);
  EXPECT_EQ("text/html; charset=utf-8", root->content_type);
  if (kDashboardFileCount == 0) {
    EXPECT_THAT(root->body, HasSubstr("dashboard-missing"));
    return;
  }
  EXPECT_THAT(root->body, HasSubstr("<script type=\"module\""));
  for (size_t i = 0; i < kDashboardFileCount; ++i) {
    std::string path(kDashboardFiles[i].path);
    std::optional<HttpResponse> f = DashboardFile(path);
    ASSERT_TRUE(f.has_value()) << path;
    EXPECT_EQ(kDashboardFiles[i].data, f->body);
    std::map<std::string, std::string> h(f->headers.begin(), f->headers.end());
    if (path.starts_with("/assets/")) {
      EXPECT_EQ("public, max-age=31536000, immutable", h["Cache-Control"]) << path;
    } else {
      EXPECT_EQ("no-cache", h["Cache-Control"]) << path;
    }
    if (path.ends_with(".js")) {
      EXPECT_EQ("text/javascript; charset=utf-8", f->content_type);
    }
    if (path.ends_with(".css")) {
      EXPECT_EQ("text/css; charset=utf-8", f->content_type);
    }
    EXPECT_EQ("nosniff", h["X-Content-Type-Options"]);
  }
  EXPECT_FALSE(DashboardFile("/assets/nope.js").has_value());
}

TEST(UrlEncode, KeepsUnreservedAndEscapesTheRest) {
  EXPECT_EQ("a-b_c.d~9", UrlEncode("a-b_c.d~9"));
  EXPECT_EQ("a%2Fb%20c%25%2B%C3%A9", UrlEncode("a/b c%+\xc3\xa9"));
  EXPECT_EQ("a/b c%+\xc3\xa9", UrlDecode(UrlEncode("a/b c%+\xc3\xa9"), false));
}

}  // namespace
}  // namespace meshmq::http
