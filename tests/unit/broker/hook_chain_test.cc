// The C++ hook chain (include/meshmq/hooks.h, broker/hook_chain.h) through broker::Client:
// order, no-opinion fall-through, asynchronous authentication, QoS lowering, publish changes and
// drops, per-subscriber delivery filtering, events, and contained exceptions.
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "broker_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshmq/hooks.h"

namespace meshmq::broker::testing {
namespace {

using ::testing::ElementsAre;

// Records what it was asked; answers as configured.
struct Recorder : Hook {
  Recorder(std::string name, std::vector<std::string>* log) : name_(std::move(name)), log_(log) {}
  std::string name() const override { return name_; }
  void OnAuthenticate(const ClientInfo& c, const std::optional<std::string>& password,
                      AuthDone done) override {
    log_->push_back(name_ + ":auth:" + c.username);
    if (auth) {
      done(*auth);
    } else {
      done(AuthDecision::NoOpinion());
    }
  }
  void OnConnected(const ClientInfo& c) override { log_->push_back(name_ + ":connected:" + c.client_id); }
  void OnDisconnected(const ClientInfo& c) override { log_->push_back(name_ + ":disconnected:" + c.client_id); }
  void OnSessionCreated(const ClientInfo& c) override { log_->push_back(name_ + ":created:" + c.client_id); }
  void OnSessionResumed(const ClientInfo& c) override { log_->push_back(name_ + ":resumed:" + c.client_id); }
  void OnWillSent(std::string_view id, const MessageView& m) override {
    log_->push_back(name_ + ":will:" + std::string(id) + ":" + std::string(m.topic));
  }
  void OnRetainedStored(const MessageView& m) override {
    log_->push_back(name_ + ":retained:" + std::string(m.topic));
  }
  void OnMessageDropped(std::string_view reason) override {
    log_->push_back(name_ + ":dropped:" + std::string(reason));
  }
  std::optional<AuthDecision> auth;
  std::string name_;
  std::vector<std::string>* log_;
};

codec::Connect WithUser(ProtocolVersion v, std::string id, std::string user) {
  codec::Connect c = MakeConnect(v, std::move(id));
  c.username = std::move(user);
  return c;
}

TEST(HookChainTest, AuthHooksRunInOrderUntilOneHasAnOpinion) {
  Broker broker(InlineOptions());
  std::vector<std::string> log;
  auto first = std::make_shared<Recorder>("a", &log);  // no opinion
  auto second = std::make_shared<Recorder>("b", &log);
  second->auth = AuthDecision::Deny(AuthDecision::Reason::kNotAuthorized);
  auto third = std::make_shared<Recorder>("c", &log);
  third->auth = AuthDecision::Allow();
  broker.hooks().Add(first);
  broker.hooks().Add(second);
  broker.hooks().Add(third);
  TestConn conn(broker, 0, ProtocolVersion::kV5);
  auto connack = Connect(conn, WithUser(ProtocolVersion::kV5, "x", "eve"));
  ASSERT_TRUE(connack);
  EXPECT_EQ(connack->reason_code, ReasonCode::kNotAuthorized);
  EXPECT_THAT(log, ElementsAre("a:auth:eve", "b:auth:eve"));  // c is never asked
}

TEST(HookChainTest, NoOpinionFromEveryHookLetsTheClientIn) {
  Broker broker(InlineOptions());
  std::vector<std::string> log;
  broker.hooks().Add(std::make_shared<Recorder>("a", &log));
  broker.hooks().Add(std::make_shared<Recorder>("b", &log));
  TestConn conn(broker, 0, ProtocolVersion::kV311);
  auto connack = Connect(conn, WithUser(ProtocolVersion::kV311, "x", "bob"));
  ASSERT_TRUE(connack);
  EXPECT_EQ(connack->reason_code, ReasonCode::kSuccess);
  EXPECT_THAT(log, ElementsAre("a:auth:bob", "b:auth:bob", "a:created:x", "b:created:x",
                               "a:connected:x", "b:connected:x"));
}

// Keeps the callback; the test completes it later from another thread.
struct LaterAuth : Hook {
  void OnAuthenticate(const ClientInfo&, const std::optional<std::string>& password,
                      AuthDone done) override {
    seen_password = password.value_or("");
    pending = std::move(done);
  }
  AuthDone pending;
  std::string seen_password;
};

TEST(HookChainTest, AsynchronousAuthCompletesLaterFromAnotherThread) {
  Broker broker(InlineOptions());
  auto hook = std::make_shared<LaterAuth>();
  broker.hooks().Add(hook);
  TestConn conn(broker, 0, ProtocolVersion::kV5);
  codec::Connect c = WithUser(ProtocolVersion::kV5, "late", "u");
  c.password = "pw";
  conn.Write(c);
  EXPECT_EQ(conn.Types(), "");  // waiting for the hook
  ASSERT_TRUE(hook->pending);
  EXPECT_EQ(hook->seen_password, "pw");
  std::thread([&] {
    hook->pending(AuthDecision::Allow());
    hook->pending(AuthDecision::Deny());  // a second answer is ignored
  }).join();
  Settle(broker);
  auto acks = conn.Of<codec::Connack>();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].reason_code, ReasonCode::kSuccess);
}

struct Policy : Hook {
  Decision OnAclCheck(const ClientInfo&, Action action, const std::string& topic) override {
    if (topic.starts_with("secret")) return Decision::kDeny;
    if (topic.starts_with("open")) return Decision::kAllow;
    return Decision::kNoOpinion;
  }
  int OnSubscribe(const ClientInfo&, const std::string& filter, int qos) override {
    if (filter == "refused") return -1;
    if (filter.starts_with("low/")) return 0;
    return qos + 1;  // asking for more is ignored
  }
  bool OnPublish(const ClientInfo& c, meshmq::Message& m) override {
    if (m.topic == "drop/me") return false;
    if (m.topic == "rename") m.topic = "renamed";
    m.payload = c.client_id + ":" + m.payload;
    if (m.topic == "downgrade") m.qos = 0;
    return true;
  }
  bool OnDeliver(const ClientInfo& subscriber, const MessageView& m) override {
    return !(subscriber.client_id == "muted" && m.topic.starts_with("news"));
  }
};

TEST(HookChainTest, AclHookDeniesPublishAndSubscribe) {
  Broker broker(InlineOptions());
  broker.hooks().Add(std::make_shared<Policy>());
  TestConn conn(broker, 0, ProtocolVersion::kV5);
  Connect(conn, "c");
  EXPECT_THAT(Subscribe(conn, "secret/#", 1), ElementsAre(ReasonCode::kNotAuthorized));
  EXPECT_THAT(Subscribe(conn, "open/#", 1, 2), ElementsAre(ReasonCode::kGrantedQos1));
  conn.Write(MakePublish("secret/x", "p", 1, 7));
  auto acks = conn.Of<codec::Puback>();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].reason_code, ReasonCode::kNotAuthorized);
}

TEST(HookChainTest, SubscribeHookLowersQosOrRefuses) {
  Broker broker(InlineOptions());
  broker.hooks().Add(std::make_shared<Policy>());
  TestConn conn(broker, 0, ProtocolVersion::kV5);
  Connect(conn, "c");
  EXPECT_THAT(Subscribe(conn, "low/x", 2), ElementsAre(ReasonCode::kSuccess));
  EXPECT_THAT(Subscribe(conn, "refused", 1, 2), ElementsAre(ReasonCode::kNotAuthorized));
  EXPECT_THAT(Subscribe(conn, "other", 1, 3), ElementsAre(ReasonCode::kGrantedQos1));  // not raised
}

TEST(HookChainTest, PublishHookModifiesOrDrops) {
  Broker broker(InlineOptions());
  std::vector<std::string> log;
  broker.hooks().Add(std::make_shared<Policy>());
  broker.hooks().Add(std::make_shared<Recorder>("r", &log));
  TestConn sub(broker, 0, ProtocolVersion::kV5);
  Connect(sub, "s");
  Subscribe(sub, "#", 2);
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  pub.Write(MakePublish("rename", "a", 1, 1));
  pub.Write(MakePublish("downgrade", "b", 1, 2));
  pub.Write(MakePublish("drop/me", "c", 1, 3));
  auto got = sub.Of<codec::Publish>();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].topic, "renamed");
  EXPECT_EQ(got[0].payload.str(), "p:a");
  EXPECT_EQ(got[0].qos, 1);
  EXPECT_EQ(got[1].topic, "downgrade");
  EXPECT_EQ(got[1].qos, 0);  // routed at the hook's QoS
  auto acks = pub.Of<codec::Puback>();
  ASSERT_EQ(acks.size(), 3u);  // the sender's QoS 1 is acknowledged each time
  EXPECT_EQ(acks[2].reason_code, ReasonCode::kImplementationSpecificError);
  EXPECT_EQ(broker.Stats().dropped[static_cast<int>(DropReason::kHook)], 1u);
  EXPECT_THAT(log, ::testing::Contains("r:dropped:hook"));
}

TEST(HookChainTest, DeliverHookSkipsOneSubscriber) {
  Broker broker(InlineOptions());
  broker.hooks().Add(std::make_shared<Policy>());
  TestConn muted(broker, 0, ProtocolVersion::kV311);
  Connect(muted, "muted");
  Subscribe(muted, "#", 0);
  TestConn other(broker, 0, ProtocolVersion::kV311);
  Connect(other, "other");
  Subscribe(other, "#", 0);
  TestConn pub(broker, 0, ProtocolVersion::kV311);
  Connect(pub, "p");
  pub.Write(MakePublish("news/1", "n", 0));
  pub.Write(MakePublish("weather", "w", 0));
  EXPECT_THAT(Payloads(muted.Of<codec::Publish>()), ElementsAre("p:w"));
  EXPECT_THAT(Payloads(other.Of<codec::Publish>()), ElementsAre("p:n", "p:w"));
}

TEST(HookChainTest, EventsReachEveryHook) {
  Broker broker(InlineOptions());
  std::vector<std::string> log;
  broker.hooks().Add(std::make_shared<Recorder>("r", &log));
  TestConn conn(broker, 0, ProtocolVersion::kV311);
  codec::Connect c = MakeConnect(ProtocolVersion::kV311, "w", /*clean_start=*/false);
  c.will = codec::Will{};
  c.will->topic = "gone/w";
  c.will->payload = codec::SharedBytes(std::string("bye"));
  Connect(conn, c);
  conn.Write(MakePublish("kept", "v", 0, 0, /*retain=*/true));
  conn.DropTransport();
  TestConn again(broker, 0, ProtocolVersion::kV311);
  Connect(again, "w", /*clean_start=*/false);
  EXPECT_THAT(log, ElementsAre("r:auth:", "r:created:w", "r:connected:w", "r:retained:kept",
                               "r:dropped:no_subscribers", "r:disconnected:w", "r:will:w:gone/w",
                               "r:auth:", "r:resumed:w", "r:connected:w"));
}

struct Thrower : Hook {
  std::string name() const override { return "thrower"; }
  void OnAuthenticate(const ClientInfo& c, const std::optional<std::string>&, AuthDone done) override {
    if (c.username == "boom") throw std::runtime_error("auth backend exploded");
    done(AuthDecision::NoOpinion());
  }
  Decision OnAclCheck(const ClientInfo&, Action, const std::string& topic) override {
    if (topic == "acl/boom") throw std::runtime_error("acl");
    return Decision::kNoOpinion;
  }
  bool OnPublish(const ClientInfo&, meshmq::Message& m) override {
    m.payload = "half-changed";
    throw 42;  // not even a std::exception
  }
  void OnConnected(const ClientInfo&) override { throw std::logic_error("event"); }
};

TEST(HookChainTest, ThrowingHooksAreContainedAndCounted) {
  Broker broker(InlineOptions());
  broker.hooks().Add(std::make_shared<Thrower>());
  TestConn denied(broker, 0, ProtocolVersion::kV5);
  auto connack = Connect(denied, WithUser(ProtocolVersion::kV5, "d", "boom"));
  ASSERT_TRUE(connack);
  EXPECT_EQ(connack->reason_code, ReasonCode::kNotAuthorized);  // a throwing auth hook denies
  EXPECT_EQ(broker.hooks().failures(HookKind::kAuthenticate), 1u);

  TestConn sub(broker, 0, ProtocolVersion::kV5);
  ASSERT_EQ(Connect(sub, "s")->reason_code, ReasonCode::kSuccess);
  EXPECT_EQ(broker.hooks().failures(HookKind::kConnected), 1u);
  EXPECT_THAT(Subscribe(sub, "acl/boom", 0), ElementsAre(ReasonCode::kNotAuthorized));
  EXPECT_EQ(broker.hooks().failures(HookKind::kAclCheck), 1u);
  Subscribe(sub, "t", 0, 2);
  sub.Write(MakePublish("t", "original", 0));
  EXPECT_THAT(Payloads(sub.Of<codec::Publish>()), ElementsAre("original"));  // unchanged
  EXPECT_EQ(broker.hooks().failures(HookKind::kPublish), 1u);
  EXPECT_NE(broker.hooks().RenderMetrics().find("meshmq_hook_failures_total{hook=\"publish\"} 1"),
            std::string::npos);
}

}  // namespace
}  // namespace meshmq::broker::testing
