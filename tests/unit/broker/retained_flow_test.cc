// Retained messages through broker::Client: set, replace, delete, delivery after SUBACK, v5 Retain
// Handling and Retain As Published.
#include <string>

#include "broker_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meshmq::broker::testing {
namespace {

using ::testing::ElementsAre;

struct RetainFixture {
  RetainFixture() : broker(InlineOptions()), pub(broker, 0, ProtocolVersion::kV5) {
    Connect(pub, "pub");
  }
  void Retain(const std::string& topic, const std::string& payload, uint8_t qos = 1) {
    pub.Write(MakePublish(topic, payload, qos, qos ? ++next_id : 0, /*retain=*/true));
  }
  Broker broker;
  TestConn pub;
  uint16_t next_id = 0;
};

codec::Subscribe SubscribeWith(uint16_t id, std::string filter, uint8_t rh, bool rap = false) {
  codec::Subscribe s = MakeSubscribe(id, std::move(filter), 1);
  s.subscriptions[0].retain_handling = rh;
  s.subscriptions[0].retain_as_published = rap;
  return s;
}

TEST(RetainedFlowTest, DeliveredAfterSubackWithRetainFlag) {
  RetainFixture f;
  f.Retain("a/b", "v1");
  TestConn sub(f.broker, 0, ProtocolVersion::kV311);
  Connect(sub, "s");
  Subscribe(sub, "a/+", 1);
  EXPECT_EQ(sub.Types(), "CONNACK,SUBACK,PUBLISH");
  auto got = sub.Of<codec::Publish>();
  EXPECT_TRUE(got[0].retain);  // [MQTT-3.3.1-8]
  EXPECT_EQ(got[0].payload.str(), "v1");
  EXPECT_EQ(got[0].qos, 1);
}

TEST(RetainedFlowTest, ReplaceAndDeleteWithEmptyPayload) {
  RetainFixture f;
  f.Retain("a", "v1");
  f.Retain("a", "v2");
  EXPECT_EQ(f.broker.retained().size(), 1u);
  {
    TestConn sub(f.broker, 0, ProtocolVersion::kV311);
    Connect(sub, "s1");
    Subscribe(sub, "a", 1);
    EXPECT_THAT(Payloads(sub.Of<codec::Publish>()), ElementsAre("v2"));
  }
  f.Retain("a", "");  // [MQTT-3.3.1-6] empty payload deletes
  EXPECT_EQ(f.broker.retained().size(), 0u);
  TestConn sub(f.broker, 0, ProtocolVersion::kV311);
  Connect(sub, "s2");
  Subscribe(sub, "a", 1);
  EXPECT_TRUE(sub.Of<codec::Publish>().empty());
}

TEST(RetainedFlowTest, LiveDeliveryClearsRetainFlagByDefault) {
  // [MQTT-3.3.1-9]: without Retain As Published a live message goes out with RETAIN 0.
  RetainFixture f;
  TestConn sub(f.broker, 0, ProtocolVersion::kV5);
  Connect(sub, "s");
  Subscribe(sub, "a", 1);
  f.Retain("a", "v");
  auto got = sub.Of<codec::Publish>();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FALSE(got[0].retain);
}

TEST(RetainedFlowTest, RetainAsPublishedKeepsFlag) {
  RetainFixture f;
  TestConn sub(f.broker, 0, ProtocolVersion::kV5);
  Connect(sub, "s");
  Subscribe(sub, SubscribeWith(1, "a", 0, /*rap=*/true));
  f.Retain("a", "v");
  f.pub.Write(MakePublish("a", "plain", 1, 99));
  auto got = sub.Of<codec::Publish>();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[0].retain);
  EXPECT_FALSE(got[1].retain);
}

TEST(RetainedFlowTest, RetainHandling1OnlyForNewSubscription) {
  RetainFixture f;
  f.Retain("a", "v");
  TestConn sub(f.broker, 0, ProtocolVersion::kV5);
  Connect(sub, "s");
  Subscribe(sub, SubscribeWith(1, "a", 1));
  EXPECT_EQ(sub.Of<codec::Publish>().size(), 1u);
  Subscribe(sub, SubscribeWith(2, "a", 1));  // existed already: nothing
  EXPECT_EQ(sub.Of<codec::Publish>().size(), 1u);
  Subscribe(sub, SubscribeWith(3, "a", 0));  // 0: always
  EXPECT_EQ(sub.Of<codec::Publish>().size(), 2u);
}

TEST(RetainedFlowTest, RetainHandling2Never) {
  RetainFixture f;
  f.Retain("a", "v");
  TestConn sub(f.broker, 0, ProtocolVersion::kV5);
  Connect(sub, "s");
  Subscribe(sub, SubscribeWith(1, "a", 2));
  EXPECT_EQ(sub.Types(), "CONNACK,SUBACK");
}

TEST(RetainedFlowTest, SharedSubscriptionGetsNoRetained) {
  RetainFixture f;
  f.Retain("a", "v");
  TestConn sub(f.broker, 0, ProtocolVersion::kV5);
  Connect(sub, "s");
  Subscribe(sub, "$share/g/a", 1);
  EXPECT_EQ(sub.Types(), "CONNACK,SUBACK");
}

TEST(RetainedFlowTest, RetainedDeliveryQosIsMinOfStoredAndGranted) {
  RetainFixture f;
  f.Retain("q0", "x", 0);
  f.Retain("q2", "y", 2);
  f.pub.Write(MakeAck<codec::Pubrel>(f.next_id));
  TestConn sub(f.broker, 0, ProtocolVersion::kV311);
  Connect(sub, "s");
  Subscribe(sub, "q0", 2, 1);
  Subscribe(sub, "q2", 1, 2);
  auto got = sub.Of<codec::Publish>();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].qos, 0);
  EXPECT_EQ(got[1].qos, 1);
}

TEST(RetainedFlowTest, RetainedOnSubscribeCarriesSubscriptionId) {
  RetainFixture f;
  f.Retain("a", "v");
  TestConn sub(f.broker, 0, ProtocolVersion::kV5);
  Connect(sub, "s");
  Subscribe(sub, MakeSubscribe(1, "a", 1, /*subscription_id=*/77));
  auto got = sub.Of<codec::Publish>();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0].properties.subscription_identifiers, ElementsAre(77));
}

TEST(RetainedFlowTest, RetainedMessageExpires) {
  RetainFixture f;
  codec::Publish p = MakePublish("a", "v", 0, 0, /*retain=*/true);
  p.properties.message_expiry_interval = 1;
  f.pub.Write(p);
  RunFor(f.broker, std::chrono::milliseconds(1100));
  TestConn sub(f.broker, 0, ProtocolVersion::kV5);
  Connect(sub, "s");
  Subscribe(sub, "a", 1);
  EXPECT_EQ(sub.Types(), "CONNACK,SUBACK");
}

}  // namespace
}  // namespace meshmq::broker::testing
