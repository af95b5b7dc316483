// Limits and timers of broker::Client: topic aliases in both directions, message expiry, the
// client's Maximum Packet Size, keep alive, slow consumers and contained handler failures.
#include <string>

#include "broker_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meshmq::broker::testing {
namespace {

using ::testing::ElementsAre;

codec::Publish WithAlias(std::string topic, uint16_t alias, std::string payload) {
  codec::Publish p = MakePublish(std::move(topic), std::move(payload), 0);
  p.properties.topic_alias = alias;
  return p;
}

TEST(TopicAliasTest, InboundAliasSetThenUsed) {
  Broker broker(InlineOptions());
  TestConn sub(broker, 0, ProtocolVersion::kV311);
  Connect(sub, "s");
  Subscribe(sub, "long/topic", 0);
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  pub.Write(WithAlias("long/topic", 3, "first"));
  pub.Write(WithAlias("", 3, "second"));
  auto got = sub.Of<codec::Publish>();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].topic, "long/topic");
  EXPECT_EQ(got[1].payload.str(), "second");
  EXPECT_FALSE(pub.closed());
}

TEST(TopicAliasTest, AliasAboveMaximumDisconnects0x94) {
  BrokerOptions options = InlineOptions();
  options.max_topic_alias = 4;
  Broker broker(options);
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  pub.Write(WithAlias("t", 5, "x"));
  EXPECT_TRUE(pub.closed());
  auto d = pub.Of<codec::Disconnect>();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reason_code, ReasonCode::kTopicAliasInvalid);
}

TEST(TopicAliasTest, UnknownAliasWithEmptyTopicCloses) {
  Broker broker(InlineOptions());
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  pub.Write(WithAlias("", 2, "x"));
  EXPECT_TRUE(pub.closed());
  auto d = pub.Of<codec::Disconnect>();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reason_code, ReasonCode::kProtocolError);
}

TEST(TopicAliasTest, OutboundAliasReplacesTopicOnSecondMessage) {
  Broker broker(InlineOptions());
  TestConn sub(broker, 0, ProtocolVersion::kV5);
  codec::Connect c = MakeConnect(ProtocolVersion::kV5, "s");
  c.properties.topic_alias_maximum = 2;
  Connect(sub, c);
  Subscribe(sub, "#", 0);
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  pub.Write(MakePublish("a/b", "1", 0));
  pub.Write(MakePublish("a/b", "2", 0));
  auto got = sub.Of<codec::Publish>();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].topic, "a/b");
  ASSERT_TRUE(got[0].properties.topic_alias);
  EXPECT_GE(*got[0].properties.topic_alias, 1);
  EXPECT_LE(*got[0].properties.topic_alias, 2);
  EXPECT_EQ(got[1].topic, "");
  EXPECT_EQ(got[1].properties.topic_alias, got[0].properties.topic_alias);
}

TEST(TopicAliasTest, OutboundAliasesNeverExceedClientMaximum) {
  Broker broker(InlineOptions());
  TestConn sub(broker, 0, ProtocolVersion::kV5);
  codec::Connect c = MakeConnect(ProtocolVersion::kV5, "s");
  c.properties.topic_alias_maximum = 2;
  Connect(sub, c);
  Subscribe(sub, "#", 0);
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  for (const char* t : {"a", "b", "c", "d", "c"}) pub.Write(MakePublish(t, "x", 0));
  for (const auto& p : sub.Of<codec::Publish>()) {
    if (p.properties.topic_alias) {
      EXPECT_LE(*p.properties.topic_alias, 2);
    }
    if (p.topic.empty()) {
      EXPECT_TRUE(p.properties.topic_alias);
    }
  }
}

TEST(TopicAliasTest, NoOutboundAliasWithoutClientMaximum) {
  Broker broker(InlineOptions());
  TestConn sub(broker, 0, ProtocolVersion::kV5);
  Connect(sub, "s");
  Subscribe(sub, "#", 0);
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  pub.Write(MakePublish("a", "1", 0));
  pub.Write(MakePublish("a", "2", 0));
  for (const auto& p : sub.Of<codec::Publish>()) {
    EXPECT_EQ(p.topic, "a");
    EXPECT_FALSE(p.properties.topic_alias);
  }
}

TEST(MessageExpiryTest, ExpiredQueuedMessageIsNotDelivered) {
  Broker broker(InlineOptions());
  codec::Connect c = MakeConnect(ProtocolVersion::kV5, "s", false);
  c.properties.session_expiry_interval = 60;
  {
    TestConn sub(broker, 0, ProtocolVersion::kV5);
    Connect(sub, c);
    Subscribe(sub, "t", 1);
    sub.Write(codec::Disconnect{});
  }
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  codec::Publish short_lived = MakePublish("t", "short", 1, 1);
  short_lived.properties.message_expiry_interval = 1;
  pub.Write(short_lived);
  codec::Publish long_lived = MakePublish("t", "long", 1, 2);
  long_lived.properties.message_expiry_interval = 100;
  pub.Write(long_lived);
  RunFor(broker, std::chrono::milliseconds(1100));
  TestConn sub(broker, 0, ProtocolVersion::kV5);
  Connect(sub, c);
  auto got = sub.Of<codec::Publish>();
  EXPECT_THAT(Payloads(got), ElementsAre("long"));
  ASSERT_EQ(got.size(), 1u);
  // [MQTT-3.3.2-6] the remaining lifetime, not the original.
  ASSERT_TRUE(got[0].properties.message_expiry_interval);
  EXPECT_LT(*got[0].properties.message_expiry_interval, 100u);
  EXPECT_GE(*got[0].properties.message_expiry_interval, 98u);
  EXPECT_EQ(broker.Stats().dropped[static_cast<int>(DropReason::kExpired)], 1u);
}

TEST(MessageExpiryTest, PassThroughPropertiesReachSubscriber) {
  Broker broker(InlineOptions());
  TestConn sub(broker, 0, ProtocolVersion::kV5);
  Connect(sub, "s");
  Subscribe(sub, "t", 0);
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  codec::Publish p = MakePublish("t", "x", 0);
  p.properties.content_type = "text/plain";
  p.properties.response_topic = "reply";
  p.properties.correlation_data = "c0";
  p.properties.user_properties = {{"k", "v"}};
  p.properties.message_expiry_interval = 50;
  pub.Write(p);
  auto got = sub.Of<codec::Publish>();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].properties.content_type, "text/plain");
  EXPECT_EQ(got[0].properties.response_topic, "reply");
  EXPECT_EQ(got[0].properties.correlation_data, "c0");
  EXPECT_EQ(got[0].properties.user_properties, p.properties.user_properties);
  ASSERT_TRUE(got[0].properties.message_expiry_interval);
  EXPECT_LE(*got[0].properties.message_expiry_interval, 50u);
}

TEST(MaxPacketSizeTest, MessageLargerThanClientLimitIsNotSent) {
  Broker broker(InlineOptions());
  TestConn sub(broker, 0, ProtocolVersion::kV5);
  codec::Connect c = MakeConnect(ProtocolVersion::kV5, "s");
  c.properties.maximum_packet_size = 64;
  Connect(sub, c);
  Subscribe(sub, "t", 1);
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  pub.Write(MakePublish("t", std::string(100, 'x'), 1, 1));
  pub.Write(MakePublish("t", "small", 1, 2));
  EXPECT_THAT(Payloads(sub.Of<codec::Publish>()), ElementsAre("small"));
  EXPECT_EQ(broker.Stats().dropped[static_cast<int>(DropReason::kTooLarge)], 1u);
  EXPECT_EQ(broker.Stats().inflight, 1);  // the dropped one holds no slot
}

TEST(MaxPacketSizeTest, PacketLargerThanServerLimitIsRejected) {
  BrokerOptions options = InlineOptions();
  options.max_packet_size = 128;
  Broker broker(options);
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  pub.Write(MakePublish("t", std::string(200, 'x'), 0));
  EXPECT_TRUE(pub.closed());
  auto d = pub.Of<codec::Disconnect>();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reason_code, ReasonCode::kPacketTooLarge);
}

TEST(KeepAliveTest, SilentClientIsClosedAfterOneAndAHalfIntervals) {
  // [MQTT-3.1.2-24]
  Broker broker(InlineOptions());
  TestConn c(broker, 0, ProtocolVersion::kV5);
  Connect(c, MakeConnect(ProtocolVersion::kV5, "c", true, /*keep_alive=*/1));
  RunFor(broker, std::chrono::milliseconds(1200));
  EXPECT_FALSE(c.closed());
  RunFor(broker, std::chrono::milliseconds(500));
  EXPECT_TRUE(c.closed());
  auto d = c.Of<codec::Disconnect>();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reason_code, ReasonCode::kKeepAliveTimeout);
}

// A client keeps one entry in the shard's deadline queue: the connect timeout's entry, made
// stale by CONNECT, queues the keep-alive deadline when it comes up (no second entry meanwhile).
TEST(KeepAliveTest, ConnectTimeoutEntryHandsOverToKeepAliveWithOneEntryPerClient) {
  BrokerOptions options = InlineOptions();
  options.connect_timeout_ms = 300;
  Broker broker(options);
  TestConn a(broker, 0, ProtocolVersion::kV5);
  TestConn b(broker, 0, ProtocolVersion::kV311);
  Connect(a, MakeConnect(ProtocolVersion::kV5, "a", true, /*keep_alive=*/1));
  Connect(b, MakeConnect(ProtocolVersion::kV311, "b", true, /*keep_alive=*/1));
  EXPECT_EQ(broker.shard(0).QueuedDeadlines(), 2u);
  RunFor(broker, std::chrono::milliseconds(500));  // past the connect timeout
  EXPECT_FALSE(a.closed());
  EXPECT_FALSE(b.closed());
  EXPECT_EQ(broker.shard(0).QueuedDeadlines(), 2u);  // now the keep-alive deadlines
  b.Write(codec::Pingreq{});
  RunFor(broker, std::chrono::milliseconds(1200));  // 1.7 s: a's 1.5 s are up, b pinged at 0.5 s
  EXPECT_TRUE(a.closed());
  EXPECT_FALSE(b.closed());
  auto d = a.Of<codec::Disconnect>();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reason_code, ReasonCode::kKeepAliveTimeout);
  RunFor(broker, std::chrono::milliseconds(600));  // 2.3 s: b's 0.5 + 1.5 s are up
  EXPECT_TRUE(b.closed());
}

// A keep-alive deadline earlier than the queued connect timeout is queued at once.
TEST(KeepAliveTest, KeepAliveShorterThanTheConnectTimeoutStillCloses) {
  BrokerOptions options = InlineOptions();
  options.connect_timeout_ms = 5000;
  Broker broker(options);
  TestConn c(broker, 0, ProtocolVersion::kV5);
  Connect(c, MakeConnect(ProtocolVersion::kV5, "c", true, /*keep_alive=*/1));
  RunFor(broker, std::chrono::milliseconds(1200));
  EXPECT_FALSE(c.closed());
  RunFor(broker, std::chrono::milliseconds(500));
  EXPECT_TRUE(c.closed());
}

TEST(KeepAliveTest, PingsKeepConnectionOpen) {
  Broker broker(InlineOptions());
  TestConn c(broker, 0, ProtocolVersion::kV311);
  Connect(c, MakeConnect(ProtocolVersion::kV311, "c", true, 1));
  for (int i = 0; i < 4; ++i) {
    RunFor(broker, std::chrono::milliseconds(700));
    c.Write(codec::Pingreq{});
  }
  EXPECT_FALSE(c.closed());
  EXPECT_EQ(c.Of<codec::Pingresp>().size(), 4u);
}

TEST(KeepAliveTest, ServerKeepAliveOverridesV5Request) {
  BrokerOptions options = InlineOptions();
  options.max_keep_alive = 30;
  Broker broker(options);
  TestConn c(broker, 0, ProtocolVersion::kV5);
  auto ack = Connect(c, MakeConnect(ProtocolVersion::kV5, "c", true, 600));
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->properties.server_keep_alive, 30);
}

TEST(SlowConsumerTest, Qos0DroppedWhenSocketBacklogIsFull) {
  BrokerOptions options = InlineOptions();
  options.max_outbound_bytes = 1000;
  Broker broker(options);
  TestConn sub(broker, 0, ProtocolVersion::kV311);
  Connect(sub, "s");
  Subscribe(sub, "t", 1);
  sub.SetQueuedBytes(5000);
  TestConn pub(broker, 0, ProtocolVersion::kV311);
  Connect(pub, "p");
  pub.Write(MakePublish("t", "q0", 0));
  pub.Write(MakePublish("t", "q1", 1, 1));
  EXPECT_THAT(Payloads(sub.Of<codec::Publish>()), ElementsAre("q1"));
  EXPECT_EQ(broker.Stats().dropped[static_cast<int>(DropReason::kSlowConsumer)], 1u);
}

TEST(FaultContainmentTest, ThrowingHandlerClosesOnlyThatClient) {
  BrokerOptions options = InlineOptions();
  options.debug_fault_injection = true;
  Broker broker(options);
  TestConn sub(broker, 0, ProtocolVersion::kV5);
  Connect(sub, "s");
  Subscribe(sub, "t", 0);
  TestConn bad(broker, 0, ProtocolVersion::kV5);
  Connect(bad, "bad");
  bad.Write(MakePublish("$meshmq/debug/throw", "boom", 0));
  EXPECT_TRUE(bad.closed());
  auto d = bad.Of<codec::Disconnect>();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reason_code, ReasonCode::kImplementationSpecificError);
  EXPECT_EQ(broker.Stats().session_failures, 1u);
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  pub.Write(MakePublish("t", "still works", 0));
  EXPECT_THAT(Payloads(sub.Of<codec::Publish>()), ElementsAre("still works"));
}

TEST(FaultContainmentTest, DebugTopicIsOrdinaryWithoutFaultInjection) {
  Broker broker(InlineOptions());
  TestConn c(broker, 0, ProtocolVersion::kV5);
  Connect(c, "c");
  c.Write(MakePublish("$meshmq/debug/throw", "x", 0));
  EXPECT_FALSE(c.closed());
  EXPECT_EQ(broker.Stats().session_failures, 0u);
}

}  // namespace
}  // namespace meshmq::broker::testing
