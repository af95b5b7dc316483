// Will messages: published on abnormal close and v5 DISCONNECT 0x04, discarded on normal
// DISCONNECT, Will Delay Interval, retained wills.
#include <string>

#include "broker_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meshmq::broker::testing {
namespace {

using ::testing::ElementsAre;

codec::Connect WithWill(ProtocolVersion version, std::string id, uint8_t qos = 1,
                        bool retain = false) {
  codec::Connect c = MakeConnect(version, std::move(id));
  codec::Will will;
  will.topic = "will/t";
  will.payload = codec::SharedBytes(std::string("gone"));
  will.qos = qos;
  will.retain = retain;
  c.will = will;
  return c;
}

struct WillFixture {
  explicit WillFixture(ProtocolVersion sub_version = ProtocolVersion::kV311)
      : broker(InlineOptions()), sub(broker, 0, sub_version) {
    Connect(sub, "watcher");
    Subscribe(sub, "will/#", 2);
  }
  std::vector<std::string> Wills() { return Payloads(sub.Of<codec::Publish>()); }
  Broker broker;
  TestConn sub;
};

TEST(WillTest, AbnormalClosePublishesWill) {
  WillFixture f;
  TestConn c(f.broker, 0, ProtocolVersion::kV311);
  Connect(c, WithWill(ProtocolVersion::kV311, "c"));
  EXPECT_TRUE(f.Wills().empty());
  c.DropTransport();
  auto got = f.sub.Of<codec::Publish>();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].topic, "will/t");
  EXPECT_EQ(got[0].payload.str(), "gone");
  EXPECT_EQ(got[0].qos, 1);
}

TEST(WillTest, NormalDisconnectDiscardsWill) {
  // [MQTT-3.14.4-3]
  WillFixture f;
  TestConn c(f.broker, 0, ProtocolVersion::kV311);
  Connect(c, WithWill(ProtocolVersion::kV311, "c"));
  c.Write(codec::Disconnect{});
  EXPECT_TRUE(c.closed());
  c.DropTransport();
  EXPECT_TRUE(f.Wills().empty());
}

TEST(WillTest, V5DisconnectWithWillPublishesWill) {
  WillFixture f;
  TestConn c(f.broker, 0, ProtocolVersion::kV5);
  Connect(c, WithWill(ProtocolVersion::kV5, "c"));
  codec::Disconnect d;
  d.reason_code = ReasonCode::kDisconnectWithWill;
  c.Write(d);
  EXPECT_TRUE(c.closed());
  EXPECT_THAT(f.Wills(), ElementsAre("gone"));
}

TEST(WillTest, ProtocolErrorClosePublishesWill) {
  WillFixture f;
  TestConn c(f.broker, 0, ProtocolVersion::kV5);
  Connect(c, WithWill(ProtocolVersion::kV5, "c"));
  c.Write(codec::Auth{});  // not offered: protocol error
  EXPECT_TRUE(c.closed());
  EXPECT_THAT(f.Wills(), ElementsAre("gone"));
}

TEST(WillTest, TakeoverPublishesWillOfOldConnection) {
  // [MQTT-3.1.4-3] the old connection is closed as if it had failed: its will goes.
  WillFixture f;
  TestConn first(f.broker, 0, ProtocolVersion::kV311);
  Connect(first, WithWill(ProtocolVersion::kV311, "c"));
  TestConn second(f.broker, 0, ProtocolVersion::kV311);
  Connect(second, "c");
  EXPECT_TRUE(first.closed());
  EXPECT_THAT(f.Wills(), ElementsAre("gone"));
}

codec::Connect DelayedWill(uint32_t delay_s, uint32_t expiry_s) {
  codec::Connect c = WithWill(ProtocolVersion::kV5, "c");
  c.clean_start = false;
  c.properties.session_expiry_interval = expiry_s;
  c.will->properties.will_delay_interval = delay_s;
  return c;
}

TEST(WillTest, WillDelaySendsAfterDelay) {
  WillFixture f;
  {
    TestConn c(f.broker, 0, ProtocolVersion::kV5);
    Connect(c, DelayedWill(1, 60));
    c.DropTransport();
  }
  EXPECT_TRUE(f.Wills().empty());
  RunFor(f.broker, std::chrono::milliseconds(1300));
  EXPECT_THAT(f.Wills(), ElementsAre("gone"));
}

TEST(WillTest, ReconnectWithinWillDelayCancelsWill) {
  // [MQTT-3.1.3-9]
  WillFixture f;
  {
    TestConn c(f.broker, 0, ProtocolVersion::kV5);
    Connect(c, DelayedWill(1, 60));
    c.DropTransport();
  }
  RunFor(f.broker, std::chrono::milliseconds(200));
  TestConn again(f.broker, 0, ProtocolVersion::kV5);
  codec::Connect plain = MakeConnect(ProtocolVersion::kV5, "c", false);
  plain.properties.session_expiry_interval = 60;
  EXPECT_TRUE(Connect(again, plain)->session_present);
  RunFor(f.broker, std::chrono::milliseconds(1300));
  EXPECT_TRUE(f.Wills().empty());
}

TEST(WillTest, SessionEndingBeforeWillDelaySendsWillThen) {
  WillFixture f;
  {
    TestConn c(f.broker, 0, ProtocolVersion::kV5);
    Connect(c, DelayedWill(30, 1));
    c.DropTransport();
  }
  RunFor(f.broker, std::chrono::milliseconds(1300));
  EXPECT_THAT(f.Wills(), ElementsAre("gone"));
}

TEST(WillTest, RetainedWillIsStored) {
  WillFixture f;
  {
    TestConn c(f.broker, 0, ProtocolVersion::kV311);
    Connect(c, WithWill(ProtocolVersion::kV311, "c", 1, /*retain=*/true));
    c.DropTransport();
  }
  EXPECT_EQ(f.broker.retained().size(), 1u);
  TestConn late(f.broker, 0, ProtocolVersion::kV311);
  Connect(late, "late");
  Subscribe(late, "will/t", 1);
  auto got = late.Of<codec::Publish>();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].retain);
  EXPECT_EQ(got[0].payload.str(), "gone");
}

TEST(WillTest, InvalidWillTopicIsRefused) {
  Broker broker(InlineOptions());
  TestConn c(broker, 0, ProtocolVersion::kV5);
  codec::Connect connect = WithWill(ProtocolVersion::kV5, "c");
  connect.will->topic = "bad/#";
  c.Write(connect);
  EXPECT_TRUE(c.closed());
  auto acks = c.Of<codec::Connack>();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_GE(static_cast<int>(acks[0].reason_code), 0x80);
}

// A client gone with a delayed will comes back with Clean Start 1: its old session ends, so the
// will goes now [MQTT-3.1.3-9]. `shard` is where it comes back (its session is on shard 0).
void ExpectWillOnCleanReconnect(int shard) {
  Broker broker(InlineOptions(2));
  TestConn watcher(broker, 0, ProtocolVersion::kV311);
  Connect(watcher, "watcher");
  Subscribe(watcher, "will/#", 1);
  {
    TestConn c(broker, 0, ProtocolVersion::kV5);
    Connect(c, DelayedWill(30, 60));
    c.DropTransport();
  }
  EXPECT_TRUE(watcher.Of<codec::Publish>().empty());
  TestConn again(broker, shard, ProtocolVersion::kV5);
  auto ack = Connect(again, MakeConnect(ProtocolVersion::kV5, "c", /*clean_start=*/true));
  ASSERT_TRUE(ack);
  EXPECT_FALSE(ack->session_present);
  EXPECT_THAT(Payloads(watcher.Of<codec::Publish>()), ElementsAre("gone"));
}

TEST(WillTest, CleanReconnectSameShardSendsPendingWill) { ExpectWillOnCleanReconnect(0); }

}  // namespace
}  // namespace meshmq::broker::testing
