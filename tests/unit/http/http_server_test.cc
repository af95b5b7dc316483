// Drives the HTTP server over real sockets on 127.0.0.1 with a fake backend.
#include "http/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "http_test_util.h"

namespace meshmq::http {
namespace {

using nlohmann::json;
using testing::FakeBackend;
using testing::Fetch;
using ::testing::HasSubstr;
using testing::Reply;

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    auto backend = std::make_unique<FakeBackend>();
    fake_ = backend.get();
    Fill(*fake_);
    server_ = std::make_unique<HttpServer>(std::move(options), std::move(backend));
    ASSERT_TRUE(server_->Start().ok());
    port_ = server_->port();
    ASSERT_NE(port_, 0);
  }
  void SetUp() override { StartServer(); }

  static void Fill(FakeBackend& f) {
    f.nodes = {{"n1", "10.0.0.1:8081", "alive", true, 2, "", {}},
               {"n2", "10.0.0.2:8081", "suspect", false, 1, "", {}}};
    for (const char* id : {"c", "a", "b", "dev-2", "dev-1"}) {
      ClientInfo c;
      c.client_id = id;
      c.node = "n1";
      c.protocol_version = 5;
      c.connected = true;
      f.clients.push_back(c);
    }
    ClientDetail d;
    d.info = f.clients[1];
    d.subscriptions = {{"a/#", "a", 1, false, false, 0, 0}};
    f.details["a"] = d;
    f.connected = {"a"};
    f.subscriptions = {{"z/#", "b", 0, false, false, 0, 0}, {"a/+", "a", 2, true, false, 0, 7}};
    f.routes.local = {"a/#", "z/#"};
    f.routes.remote["x/y"] = {"n2"};
    f.retained["sensors/room 1/temp"] = RetainedInfo{"sensors/room 1/temp", "21.5", 1, 5, "n1", {}};
    f.retained["bin"] = RetainedInfo{"bin", std::string("\xff\x00\x01", 3), 0, 6, "n2", {}};
    f.retained["sensors/a%b"] = RetainedInfo{"sensors/a%b", "x", 0, 7, "n1", {}};
  }

  Reply Get(const std::string& target) { return Fetch(port_, "GET", target); }
  Reply Post(const std::string& target, const std::string& body) {
    return Fetch(port_, "POST", target, body, {{"Content-Type", "application/json"}});
  }

  FakeBackend* fake_ = nullptr;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
};

TEST_F(HttpServerTest, HealthzAnswersOk) {
  Reply r = Get("/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\n");
  EXPECT_EQ(Fetch(port_, "POST", "/healthz").status, 405);
}

TEST_F(HttpServerTest, ReadyzFollowsBackendAndShutdown) {
  EXPECT_EQ(Get("/readyz").status, 200);
  fake_->ready = false;
  EXPECT_EQ(Get("/readyz").status, 503);
  fake_->ready = true;
  EXPECT_EQ(Get("/readyz").status, 200);
  server_->SetShuttingDown();
  Reply r = Get("/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "shutting down\n");
  EXPECT_EQ(Get("/healthz").status, 200);  // still serving
}

TEST_F(HttpServerTest, MetricsIsPrometheusText) {
  fake_->metrics.version = "1.2.3";
  fake_->metrics.broker.messages_received[1] = 42;
  Reply r = Get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.headers["Content-Type"], HasSubstr("version=0.0.4"));
  EXPECT_THAT(r.body, HasSubstr("meshmq_build_info{version=\"1.2.3\""));
  EXPECT_THAT(r.body, HasSubstr("meshmq_messages_received_total{qos=\"1\"} 42\n"));
  testing::PromtoolResult check = testing::RunPromtool(r.body);
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_EQ(check.output, "");
}

TEST_F(HttpServerTest, NodesListsSelfAndPeers) {
  Reply r = Get("/api/v1/nodes");
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.headers["Content-Type"], HasSubstr("application/json"));
  json body = json::parse(r.body);
  ASSERT_EQ(body["nodes"].size(), 2u);
  EXPECT_EQ(body["nodes"][0]["node_id"], "n1");
  EXPECT_EQ(body["nodes"][0]["self"], true);
  EXPECT_EQ(body["nodes"][1]["state"], "suspect");
}

TEST_F(HttpServerTest, ClientsAreSortedAndPaginated) {
  json all = json::parse(Get("/api/v1/clients").body);
  EXPECT_EQ(all["total"], 5);
  std::vector<std::string> ids;
  for (const auto& c : all["items"]) ids.push_back(c["client_id"]);
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b", "c", "dev-1", "dev-2"}));
  EXPECT_EQ(all["items"][0]["protocol_version"], 5);
  EXPECT_EQ(all["items"][0]["connected"], true);

  json page = json::parse(Get("/api/v1/clients?offset=1&limit=2").body);
  EXPECT_EQ(page["total"], 5);
  ASSERT_EQ(page["items"].size(), 2u);
  EXPECT_EQ(page["items"][0]["client_id"], "b");
  EXPECT_EQ(page["items"][1]["client_id"], "c");

  json past = json::parse(Get("/api/v1/clients?offset=9").body);
  EXPECT_EQ(past["items"].size(), 0u);

  json dev = json::parse(Get("/api/v1/clients?prefix=dev-").body);
  EXPECT_EQ(dev["total"], 2);
  EXPECT_EQ(dev["items"][0]["client_id"], "dev-1");
}

TEST_F(HttpServerTest, BadPagingIs400AndShardTimeoutIs503) {
  for (const char* q : {"limit=0", "limit=-1", "limit=abc", "offset=1x", "limit=100000"}) {
    Reply r = Get(std::string("/api/v1/clients?") + q);
    EXPECT_EQ(r.status, 400) << q;
    EXPECT_TRUE(json::parse(r.body).contains("error")) << q;
  }
  fake_->shards_time_out = true;
  EXPECT_EQ(Get("/api/v1/clients").status, 503);
}

TEST_F(HttpServerTest, ClientDetailAndKick) {
  Reply r = Get("/api/v1/clients/a");
  ASSERT_EQ(r.status, 200);
  json body = json::parse(r.body);
  EXPECT_EQ(body["client_id"], "a");
  ASSERT_EQ(body["subscriptions"].size(), 1u);
  EXPECT_EQ(body["subscriptions"][0]["filter"], "a/#");
  EXPECT_EQ(body["subscriptions"][0]["qos"], 1);

  EXPECT_EQ(Get("/api/v1/clients/nobody").status, 404);
  EXPECT_EQ(Fetch(port_, "DELETE", "/api/v1/clients/nobody").status, 404);
  EXPECT_EQ(Fetch(port_, "DELETE", "/api/v1/clients/a").status, 200);
  absl::MutexLock lock(&fake_->mu);
  EXPECT_EQ(fake_->kicked, std::vector<std::string>{"a"});
}

TEST_F(HttpServerTest, WrongMethodIs405WithAllow) {
  Reply r = Fetch(port_, "PUT", "/api/v1/clients/a");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers["Allow"], "GET, DELETE");
  EXPECT_TRUE(json::parse(r.body).contains("error"));
  EXPECT_EQ(Fetch(port_, "DELETE", "/api/v1/nodes").status, 405);
  Reply p = Get("/api/v1/publish");
  EXPECT_EQ(p.status, 405);
  EXPECT_EQ(p.headers["Allow"], "POST");
  EXPECT_EQ(Fetch(port_, "POST", "/metrics").status, 405);
}

TEST_F(HttpServerTest, UnknownPathIs404Json) {
  // "/" is the dashboard (cluster_api_test.cc).
  for (const char* path : {"/nope", "/api/v1", "/api/v1/nope", "/api/v2/nodes",
                           "/api/v1/clients/", "/api/v1/retained/"}) {
    Reply r = Get(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(json::parse(r.body)["error"], "no such endpoint") << path;
  }
}

TEST_F(HttpServerTest, SubscriptionsAndRoutes) {
  json subs = json::parse(Get("/api/v1/subscriptions").body);
  ASSERT_EQ(subs["items"].size(), 2u);
  EXPECT_EQ(subs["items"][0]["filter"], "a/+");  // sorted by filter
  EXPECT_EQ(subs["items"][0]["client_id"], "a");
  EXPECT_EQ(subs["items"][0]["qos"], 2);
  EXPECT_EQ(subs["items"][0]["subscription_id"], 7);

  json routes = json::parse(Get("/api/v1/routes").body);
  EXPECT_EQ(routes["local"], json::array({"a/#", "z/#"}));
  EXPECT_EQ(routes["remote"]["x/y"], json::array({"n2"}));
}

TEST_F(HttpServerTest, RetainedListAndPaging) {
  json all = json::parse(Get("/api/v1/retained").body);
  EXPECT_EQ(all["total"], 3);
  json sensors = json::parse(Get("/api/v1/retained?prefix=sensors%2F&limit=1").body);
  EXPECT_EQ(sensors["total"], 2);
  ASSERT_EQ(sensors["items"].size(), 1u);
  EXPECT_EQ(sensors["items"][0]["topic"], "sensors/a%b");
  json second = json::parse(Get("/api/v1/retained?prefix=sensors/&offset=1&limit=1").body);
  EXPECT_EQ(second["items"][0]["topic"], "sensors/room 1/temp");
}

TEST_F(HttpServerTest, RetainedTopicIsUrlDecoded) {
  for (const char* target :
       {"/api/v1/retained/sensors/room%201/temp", "/api/v1/retained/sensors%2Froom%201%2Ftemp"}) {
    Reply r = Get(target);
    ASSERT_EQ(r.status, 200) << target;
    json body = json::parse(r.body);
    EXPECT_EQ(body["topic"], "sensors/room 1/temp");
    EXPECT_EQ(body["payload"], "21.5");
    EXPECT_EQ(body["payload_encoding"], "utf8");
    EXPECT_EQ(body["qos"], 1);
  }
  EXPECT_EQ(json::parse(Get("/api/v1/retained/sensors/a%25b").body)["payload"], "x");
  // '+' in a path is a literal plus, not a space.
  EXPECT_EQ(Get("/api/v1/retained/sensors/room+1/temp").status, 404);
  EXPECT_EQ(Get("/api/v1/retained/bad%zz").status, 400);
}

TEST_F(HttpServerTest, BinaryRetainedPayloadIsBase64) {
  json body = json::parse(Get("/api/v1/retained/bin").body);
  EXPECT_EQ(body["payload_encoding"], "base64");
  EXPECT_EQ(body["payload"], "/wAB");
  EXPECT_EQ(body["payload_size"], 3);
}

TEST_F(HttpServerTest, DeleteRetained) {
  EXPECT_EQ(Fetch(port_, "DELETE", "/api/v1/retained/sensors%2Fa%25b").status, 200);
  EXPECT_EQ(Get("/api/v1/retained/sensors/a%25b").status, 404);
  EXPECT_EQ(Fetch(port_, "DELETE", "/api/v1/retained/sensors/a%25b").status, 404);
}

TEST_F(HttpServerTest, PublishValidRequests) {
  Reply r = Post("/api/v1/publish", R"({"topic":"a/b","payload":"hi","qos":1,"retain":true})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["payload_size"], 2);
  EXPECT_EQ(
      Post("/api/v1/publish", R"({"topic":"bin","payload":"/wAB","payload_encoding":"base64"})")
          .status,
      200);
  EXPECT_EQ(Post("/api/v1/publish", R"({"topic":"empty"})").status, 200);
  absl::MutexLock lock(&fake_->mu);
  ASSERT_EQ(fake_->published.size(), 3u);
  EXPECT_EQ(fake_->published[0].topic, "a/b");
  EXPECT_EQ(fake_->published[0].payload, "hi");
  EXPECT_EQ(fake_->published[0].qos, 1);
  EXPECT_TRUE(fake_->published[0].retain);
  EXPECT_EQ(fake_->published[1].payload, std::string("\xff\x00\x01", 3));
  EXPECT_EQ(fake_->published[2].payload, "");
  EXPECT_EQ(fake_->published[2].qos, 0);
  EXPECT_FALSE(fake_->published[2].retain);
}

TEST_F(HttpServerTest, PublishInvalidRequestsAre400) {
  const char* bodies[] = {
      "{not json",
      "[1,2]",
      R"({"payload":"x"})",
      R"({"topic":""})",
      R"({"topic":"a/+"})",
      R"({"topic":"a/#"})",
      R"({"topic":5})",
      R"({"topic":"a","qos":3})",
      R"({"topic":"a","qos":-1})",
      R"({"topic":"a","qos":1.5})",
      R"({"topic":"a","retain":"yes"})",
      R"({"topic":"a","payload":7})",
      R"({"topic":"a","payload":"***","payload_encoding":"base64"})",
      R"({"topic":"a","payload_encoding":"hex"})",
  };
  for (const char* body : bodies) {
    Reply r = Post("/api/v1/publish", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_TRUE(json::parse(r.body)["error"].is_string()) << body;
  }
  absl::MutexLock lock(&fake_->mu);
  EXPECT_TRUE(fake_->published.empty());
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  testing::Client c(port_);
  EXPECT_EQ(c.Send("GET", "/healthz").status, 200);
  EXPECT_EQ(c.Send("GET", "/api/v1/nodes").status, 200);
  EXPECT_EQ(c.Send("GET", "/nope").status, 404);
  EXPECT_EQ(c.Send("GET", "/healthz").status, 200);
}

TEST_F(HttpServerTest, OversizedBodyIs413) {
  server_.reset();
  HttpServerOptions options;
  options.max_body_bytes = 1000;
  StartServer(options);
  Reply r = Post("/api/v1/publish", std::string(2000, 'x'));
  EXPECT_EQ(r.status, 413);
}

TEST_F(HttpServerTest, MalformedRequestIs400) {
  testing::Client c(port_);
  Reply r = c.SendRaw("GET /healthz HTTP/1.1\r\nHost x\r\n\r\n");
  EXPECT_EQ(r.status, 400);
}

TEST(HttpServerBind, PortInUseNamesTheAddress) {
  HttpServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  HttpServer first(options, std::make_unique<FakeBackend>());
  ASSERT_TRUE(first.Start().ok());
  options.port = first.port();
  HttpServer second(options, std::make_unique<FakeBackend>());
  absl::Status s = second.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("127.0.0.1:" + std::to_string(first.port())));

  options.host = "not an address";
  HttpServer third(options, std::make_unique<FakeBackend>());
  EXPECT_FALSE(third.Start().ok());
}

TEST_F(HttpServerTest, ConnectionLimitClosesExtraConnections) {
  server_.reset();
  HttpServerOptions options;
  options.max_connections = 1;
  StartServer(options);
  testing::Client first(port_);
  EXPECT_EQ(first.Send("GET", "/healthz").status, 200);  // now surely counted
  testing::Client second(port_);
  EXPECT_ANY_THROW(second.Send("GET", "/healthz"));
  EXPECT_EQ(first.Send("GET", "/healthz").status, 200);
  first.socket().close();
  // The slot frees once the server sees the close.
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    try {
      status = Fetch(port_, "GET", "/healthz").status;
    } catch (const std::exception&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  EXPECT_EQ(status, 200);
}

TEST_F(HttpServerTest, StopClosesIdleKeepAliveConnections) {
  testing::Client c(port_);
  EXPECT_EQ(c.Send("GET", "/healthz").status, 200);
  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_ANY_THROW(c.Send("GET", "/healthz"));
}

class HttpAuthTest : public HttpServerTest {
 protected:
  void SetUp() override {
    HttpServerOptions options;
    options.api.api_token = "s3cret";
    StartServer(options);
  }
};

TEST_F(HttpAuthTest, ApiNeedsBearerToken) {
  Reply none = Get("/api/v1/nodes");
  EXPECT_EQ(none.status, 401);
  EXPECT_TRUE(json::parse(none.body)["error"].is_string());
  EXPECT_THAT(none.headers["WWW-Authenticate"], HasSubstr("Bearer"));
  EXPECT_EQ(Fetch(port_, "GET", "/api/v1/nodes", "", {{"Authorization", "Bearer wrong"}}).status,
            401);
  EXPECT_EQ(Fetch(port_, "GET", "/api/v1/nodes", "", {{"Authorization", "s3cret"}}).status, 401);
  EXPECT_EQ(Fetch(port_, "GET", "/api/v1/nope").status, 401);  // no probing without a token
  EXPECT_EQ(Fetch(port_, "POST", "/api/v1/publish", R"({"topic":"a"})").status, 401);
  EXPECT_EQ(Fetch(port_, "GET", "/api/v1/nodes", "", {{"Authorization", "Bearer s3cret"}}).status,
            200);
  EXPECT_EQ(Fetch(port_, "POST", "/api/v1/publish", R"({"topic":"a"})",
                  {{"Authorization", "Bearer s3cret"}})
                .status,
            200);
}

TEST_F(HttpAuthTest, HealthAndMetricsStayOpen) {
  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_EQ(Get("/readyz").status, 200);
  EXPECT_EQ(Get("/metrics").status, 200);
}

}  // namespace
}  // namespace meshmq::http
