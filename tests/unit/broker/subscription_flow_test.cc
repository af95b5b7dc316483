// SUBSCRIBE / UNSUBSCRIBE through broker::Client: overlapping subscriptions, subscription
// identifiers, No Local, '$' topics, UNSUBACK codes, invalid filters, shared groups on one shard.
#include <map>
#include <string>

#include "broker_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meshmq::broker::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

TEST(SubscriptionFlowTest, OverlappingSubscriptionsDeliverOneCopyWithMaxQosAndAllIds) {
  // [MQTT-3.3.4-2], [MQTT-3.3.4-3]
  Broker broker(InlineOptions());
  TestConn sub(broker, 0, ProtocolVersion::kV5);
  Connect(sub, "s");
  Subscribe(sub, MakeSubscribe(1, "a/+", 1, /*subscription_id=*/11));
  Subscribe(sub, MakeSubscribe(2, "a/#", 2, 22));
  Subscribe(sub, MakeSubscribe(3, "a/b", 0, 33));
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  pub.Write(MakePublish("a/b", "x", 2, 1));
  auto got = sub.Of<codec::Publish>();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].qos, 2);
  EXPECT_THAT(got[0].properties.subscription_identifiers, UnorderedElementsAre(11, 22, 33));
}

TEST(SubscriptionFlowTest, OneSubscribeWithOverlappingFiltersUsesMaxQos) {
  Broker broker(InlineOptions());
  TestConn sub(broker, 0, ProtocolVersion::kV311);
  Connect(sub, "s");
  codec::Subscribe s = MakeSubscribe(1, "a/#", 0);
  codec::SubscribeRequest r;
  r.filter = "a/b";
  r.qos = 1;
  s.subscriptions.push_back(r);
  EXPECT_THAT(Subscribe(sub, s), ElementsAre(ReasonCode::kSuccess, ReasonCode::kGrantedQos1));
  TestConn pub(broker, 0, ProtocolVersion::kV311);
  Connect(pub, "p");
  pub.Write(MakePublish("a/b", "x", 1, 1));
  auto got = sub.Of<codec::Publish>();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].qos, 1);
}

TEST(SubscriptionFlowTest, NoLocalSuppressesOwnMessages) {
  Broker broker(InlineOptions());
  TestConn c(broker, 0, ProtocolVersion::kV5);
  Connect(c, "c");
  codec::Subscribe s = MakeSubscribe(1, "t", 0);
  s.subscriptions[0].no_local = true;
  Subscribe(c, s);
  c.Write(MakePublish("t", "mine", 0));
  EXPECT_TRUE(c.Of<codec::Publish>().empty());
  TestConn other(broker, 0, ProtocolVersion::kV5);
  Connect(other, "o");
  other.Write(MakePublish("t", "theirs", 0));
  EXPECT_THAT(Payloads(c.Of<codec::Publish>()), ElementsAre("theirs"));
}

TEST(SubscriptionFlowTest, WithoutNoLocalOwnMessagesComeBack) {
  Broker broker(InlineOptions());
  TestConn c(broker, 0, ProtocolVersion::kV5);
  Connect(c, "c");
  Subscribe(c, "t", 0);
  c.Write(MakePublish("t", "mine", 0));
  EXPECT_THAT(Payloads(c.Of<codec::Publish>()), ElementsAre("mine"));
}

TEST(SubscriptionFlowTest, NoLocalOnSharedSubscriptionIsProtocolError) {
  // [MQTT-3.8.3-4]
  Broker broker(InlineOptions());
  TestConn c(broker, 0, ProtocolVersion::kV5);
  Connect(c, "c");
  codec::Subscribe s = MakeSubscribe(1, "$share/g/t", 0);
  s.subscriptions[0].no_local = true;
  c.Write(s);
  EXPECT_TRUE(c.closed());
  auto d = c.Of<codec::Disconnect>();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reason_code, ReasonCode::kProtocolError);
}

TEST(SubscriptionFlowTest, WildcardsDoNotMatchDollarTopics) {
  // [MQTT-4.7.2-1]
  Broker broker(InlineOptions());
  TestConn all(broker, 0, ProtocolVersion::kV311);
  Connect(all, "all");
  Subscribe(all, "#", 0, 1);
  Subscribe(all, "+/x", 0, 2);
  TestConn dollar(broker, 0, ProtocolVersion::kV311);
  Connect(dollar, "dollar");
  Subscribe(dollar, "$app/#", 0);
  TestConn pub(broker, 0, ProtocolVersion::kV311);
  Connect(pub, "p");
  pub.Write(MakePublish("$app/x", "d", 0));
  pub.Write(MakePublish("app/x", "n", 0));
  EXPECT_THAT(Payloads(all.Of<codec::Publish>()), ElementsAre("n"));
  EXPECT_THAT(Payloads(dollar.Of<codec::Publish>()), ElementsAre("d"));
}

TEST(SubscriptionFlowTest, ClientPublishToSysIsDropped) {
  Broker broker(InlineOptions());
  TestConn sub(broker, 0, ProtocolVersion::kV5);
  Connect(sub, "s");
  Subscribe(sub, "$SYS/#", 0);
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  pub.Write(MakePublish("$SYS/fake", "x", 1, 1));
  EXPECT_TRUE(sub.Of<codec::Publish>().empty());
  auto acks = pub.Of<codec::Puback>();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].reason_code, ReasonCode::kNotAuthorized);
}

TEST(SubscriptionFlowTest, UnsubscribeCodesV5) {
  Broker broker(InlineOptions());
  TestConn c(broker, 0, ProtocolVersion::kV5);
  Connect(c, "c");
  Subscribe(c, "a", 1);
  codec::Unsubscribe u;
  u.packet_id = 7;
  u.filters = {"a", "b"};
  c.Write(u);
  auto acks = c.Of<codec::Unsuback>();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].packet_id, 7);
  EXPECT_THAT(acks[0].reason_codes,
              ElementsAre(ReasonCode::kSuccess, ReasonCode::kNoSubscriptionExisted));
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  pub.Write(MakePublish("a", "x", 0));
  EXPECT_TRUE(c.Of<codec::Publish>().empty());
  EXPECT_EQ(broker.Stats().subscriptions, 0);
}

TEST(SubscriptionFlowTest, UnsubscribeV311GetsUnsuback) {
  Broker broker(InlineOptions());
  TestConn c(broker, 0, ProtocolVersion::kV311);
  Connect(c, "c");
  codec::Unsubscribe u;
  u.packet_id = 3;
  u.filters = {"nothing"};
  c.Write(u);
  EXPECT_EQ(c.Types(), "CONNACK,UNSUBACK");
  EXPECT_EQ(c.Of<codec::Unsuback>()[0].packet_id, 3);
}

TEST(SubscriptionFlowTest, InvalidFilterV5GetsPerFilterCode) {
  Broker broker(InlineOptions());
  TestConn c(broker, 0, ProtocolVersion::kV5);
  Connect(c, "c");
  codec::Subscribe s = MakeSubscribe(1, "a/#/b", 1);
  codec::SubscribeRequest ok;
  ok.filter = "ok";
  ok.qos = 1;
  s.subscriptions.push_back(ok);
  EXPECT_THAT(Subscribe(c, s),
              ElementsAre(ReasonCode::kTopicFilterInvalid, ReasonCode::kGrantedQos1));
  EXPECT_FALSE(c.closed());
}

TEST(SubscriptionFlowTest, InvalidFilterV311Closes) {
  Broker broker(InlineOptions());
  TestConn c(broker, 0, ProtocolVersion::kV311);
  Connect(c, "c");
  c.Write(MakeSubscribe(1, "a/b#", 1));
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(c.Types(), "CONNACK");
}

TEST(SubscriptionFlowTest, SharedGroupOnOneShardRoundRobins) {
  Broker broker(InlineOptions());
  std::vector<std::unique_ptr<TestConn>> members;
  for (int i = 0; i < 3; ++i) {
    members.push_back(std::make_unique<TestConn>(broker, 0, ProtocolVersion::kV5));
    Connect(*members.back(), "m" + std::to_string(i));
    Subscribe(*members.back(), "$share/g/t", 1);
  }
  TestConn plain(broker, 0, ProtocolVersion::kV5);
  Connect(plain, "plain");
  Subscribe(plain, "t", 0);
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  for (int i = 0; i < 9; ++i) pub.Write(MakePublish("t", std::to_string(i), 0));
  for (auto& m : members) EXPECT_EQ(m->Of<codec::Publish>().size(), 3u);
  EXPECT_EQ(plain.Of<codec::Publish>().size(), 9u);  // ordinary subscribers get every message
}

TEST(SubscriptionFlowTest, SharedGroupSkipsOfflineMemberWhenAnotherIsOnline) {
  Broker broker(InlineOptions());
  TestConn online(broker, 0, ProtocolVersion::kV5);
  Connect(online, "on");
  Subscribe(online, "$share/g/t", 1);
  {
    TestConn offline(broker, 0, ProtocolVersion::kV5);
    codec::Connect c = MakeConnect(ProtocolVersion::kV5, "off", false);
    c.properties.session_expiry_interval = 100;
    Connect(offline, c);
    Subscribe(offline, "$share/g/t", 1);
  }
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  for (int i = 0; i < 4; ++i) pub.Write(MakePublish("t", std::to_string(i), 1, i + 1));
  EXPECT_EQ(online.Of<codec::Publish>().size(), 4u);
}

}  // namespace
}  // namespace meshmq::broker::testing
