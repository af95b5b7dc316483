// BrokerBackend against a real broker (2 shards, threads running), without sockets.
#include "http/broker_backend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <thread>

#include "http/admin_api.h"
#include "http/prometheus_writer.h"
#include "http_test_util.h"

namespace meshmq::http {
namespace {

using ::testing::HasSubstr;

class BrokerBackendTest : public ::testing::Test {
 protected:
  BrokerBackendTest() : broker_(Options()), backend_(broker_, nullptr, BackendOptions()) {
    broker_.Start();
  }
  ~BrokerBackendTest() override { broker_.Stop(); }

  static broker::BrokerOptions Options() {
    broker::BrokerOptions o;
    o.node_id = "node-1";
    o.workers = 2;
    o.sys_interval_s = 0;
    return o;
  }
  static BrokerBackendOptions BackendOptions() {
    BrokerBackendOptions o;
    o.node_id = "node-1";
    return o;
  }

  // An offline persistent session on `shard` with one subscription, as a CONNECT would leave it.
  void AddOfflineSession(int shard, const std::string& id, const std::string& filter, int qos) {
    std::promise<void> done;
    broker::Shard& s = broker_.shard(shard);
    boost::asio::post(s.io(), [&] {
      broker::Session& session = s.CreateSession(id);
      session.version = codec::ProtocolVersion::kV5;
      session.expiry_interval_s = 3600;
      session.registry_token = broker_.registry().Acquire(id, shard).token;
      broker::StoredSubscription sub;
      sub.request.filter = filter;
      sub.request.qos = static_cast<uint8_t>(qos);
      s.Subscribe(session, sub);
      done.set_value();
    });
    done.get_future().wait();
  }

  broker::Broker broker_;
  BrokerBackend backend_;
};

TEST_F(BrokerBackendTest, PublishRetainedThenGetAndList) {
  ASSERT_TRUE(backend_.Publish({"a/b", "hello", 1, true}).ok());
  std::optional<RetainedInfo> got = backend_.GetRetained("a/b");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->payload, "hello");
  EXPECT_EQ(got->qos, 1);
  EXPECT_EQ(got->origin_node, "node-1");
  EXPECT_GT(got->timestamp_ms, 0);
  ASSERT_TRUE(backend_.Publish({"a/c", "x", 0, true}).ok());
  ASSERT_TRUE(backend_.Publish({"b", "y", 0, true}).ok());
  RetainedPage page = backend_.ListRetained("a/", 1, 10);
  EXPECT_EQ(page.total, 2u);
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].topic, "a/c");
}

TEST_F(BrokerBackendTest, DeleteRetained) {
  ASSERT_TRUE(backend_.Publish({"gone", "x", 0, true}).ok());
  EXPECT_TRUE(backend_.DeleteRetained("gone").ok());
  EXPECT_FALSE(backend_.GetRetained("gone").has_value());
  EXPECT_EQ(backend_.DeleteRetained("gone").code(), absl::StatusCode::kNotFound);
}

TEST_F(BrokerBackendTest, SessionsFromEveryShard) {
  AddOfflineSession(0, "zeta", "z/#", 1);
  AddOfflineSession(1, "alpha", "a/+", 2);
  auto clients = backend_.Clients("");
  ASSERT_TRUE(clients.ok());
  ASSERT_EQ(clients->size(), 2u);
  auto prefixed = backend_.Clients("al");
  ASSERT_TRUE(prefixed.ok());
  ASSERT_EQ(prefixed->size(), 1u);
  const ClientInfo& a = prefixed->front();
  EXPECT_EQ(a.client_id, "alpha");
  EXPECT_EQ(a.node, "node-1");
  EXPECT_EQ(a.protocol_version, 5);
  EXPECT_FALSE(a.connected);
  EXPECT_EQ(a.subscriptions, 1u);
  EXPECT_EQ(a.session_expiry_s, 3600u);

  auto detail = backend_.Client("alpha");
  ASSERT_TRUE(detail.ok()) << detail.status();
  ASSERT_EQ(detail->subscriptions.size(), 1u);
  EXPECT_EQ(detail->subscriptions[0].filter, "a/+");
  EXPECT_EQ(detail->subscriptions[0].qos, 2);
  EXPECT_EQ(backend_.Client("nobody").status().code(), absl::StatusCode::kNotFound);

  auto subs = backend_.Subscriptions();
  ASSERT_TRUE(subs.ok());
  EXPECT_EQ(subs->size(), 2u);
  RoutesInfo routes = backend_.Routes();
  EXPECT_EQ(routes.local, (std::vector<std::string>{"a/+", "z/#"}));
}

TEST_F(BrokerBackendTest, PublishReachesOfflineSessionQueue) {
  AddOfflineSession(1, "alpha", "a/+", 1);
  // Published through shard 0, delivered on shard 1 once the shard route has propagated.
  size_t depth = 0;
  for (int i = 0; i < 200 && depth == 0; ++i) {
    ASSERT_TRUE(backend_.Publish({"a/x", "m", 1, false}).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    depth = backend_.Client("alpha")->info.queue_depth;
  }
  EXPECT_GE(depth, 1u);
}

TEST_F(BrokerBackendTest, KickUnknownClientIsNotFound) {
  EXPECT_EQ(backend_.Kick("nobody").code(), absl::StatusCode::kNotFound);
  AddOfflineSession(0, "offline", "t", 0);
  EXPECT_EQ(backend_.Kick("offline").code(), absl::StatusCode::kNotFound);  // not connected
}

TEST_F(BrokerBackendTest, ReadyFollowsListenersAndStop) {
  bool up = false;
  BrokerBackendOptions o = BackendOptions();
  o.listeners_ready = [&] { return up; };
  BrokerBackend backend(broker_, nullptr, o);
  EXPECT_FALSE(backend.Ready());
  up = true;
  EXPECT_TRUE(backend.Ready());
  broker_.Stop();
  EXPECT_FALSE(backend.Ready());
  EXPECT_EQ(backend.Clients("").status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(BrokerBackendTest, MetricsShowBrokerStateAndPassPromtool) {
  AddOfflineSession(0, "s1", "m/#", 0);
  ASSERT_TRUE(backend_.Publish({"r/1", "x", 0, true}).ok());
  MetricsSnapshot snap = backend_.Metrics();
  EXPECT_EQ(snap.node_id, "node-1");
  EXPECT_EQ(snap.version, MESHMQ_VERSION);
  EXPECT_FALSE(snap.cluster.has_value());
  std::string text = RenderMetrics(snap);
  EXPECT_THAT(text, HasSubstr("meshmq_retained_messages 1\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_sessions{state=\"offline\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_subscriptions 1\n"));
  EXPECT_THAT(text, HasSubstr("meshmq_routes{scope=\"local\"} 1\n"));
  testing::PromtoolResult check = testing::RunPromtool(text);
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_EQ(check.output, "");
}

TEST_F(BrokerBackendTest, ApiPublishThenGetRetainedEndToEnd) {
  AdminApi api(backend_, {});
  HttpResponse r = api.Handle({"POST", "/api/v1/publish", "",
                               R"({"topic":"x/y z","payload":"/wAB","payload_encoding":"base64",)"
                               R"("retain":true})"});
  ASSERT_EQ(r.status, 200) << r.body;
  HttpResponse got = api.Handle({"GET", "/api/v1/retained/x%2Fy%20z", "", ""});
  ASSERT_EQ(got.status, 200) << got.body;
  auto body = nlohmann::json::parse(got.body);
  EXPECT_EQ(body["payload"], "/wAB");
  EXPECT_EQ(body["payload_encoding"], "base64");
}

}  // namespace
}  // namespace meshmq::http
