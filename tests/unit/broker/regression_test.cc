// Regression tests for broker bugs found by the broker unit tests and the connection fuzzer.
// Corner cases where two broker features meet: topic aliases with the client's Maximum Packet
// Size, resends after reconnect, QoS 2 state across connections, packets pipelined behind a
// cross-shard CONNECT, and CONNECT properties with forbidden values.
#include <string>

#include "broker_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meshmq::broker::testing {
namespace {

using ::testing::ElementsAre;

TEST(RegressionTest, DroppedOversizedMessageDoesNotLeaveAliasUnannounced) {
  // The first message to a topic would carry the alias assignment; if it is dropped for size,
  // the next message to that topic must still name the topic (the client never learned the
  // alias) [MQTT-3.3.2-12].
  Broker broker(InlineOptions());
  TestConn sub(broker, 0, ProtocolVersion::kV5);
  codec::Connect c = MakeConnect(ProtocolVersion::kV5, "s");
  c.properties.topic_alias_maximum = 4;
  c.properties.maximum_packet_size = 64;
  Connect(sub, c);
  Subscribe(sub, "a/b", 0);
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  pub.Write(MakePublish("a/b", std::string(100, 'x'), 0));
  pub.Write(MakePublish("a/b", "small", 0));
  auto got = sub.Of<codec::Publish>();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload.str(), "small");
  EXPECT_EQ(got[0].topic, "a/b");
}

TEST(RegressionTest, ResendOfInflightTooLargeForNewLimitIsDroppedSafely) {
  // Messages went in flight while the client had no size limit; it comes back announcing a
  // small one. Resending must skip them without disturbing the rest of the inflight list.
  Broker broker(InlineOptions());
  codec::Connect first = MakeConnect(ProtocolVersion::kV5, "s", false);
  first.properties.session_expiry_interval = 60;
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  {
    TestConn sub(broker, 0, ProtocolVersion::kV5);
    Connect(sub, first);
    Subscribe(sub, "t", 1);
    pub.Write(MakePublish("t", std::string(100, 'a'), 1, 1));
    pub.Write(MakePublish("t", "small", 1, 2));
    pub.Write(MakePublish("t", std::string(100, 'b'), 1, 3));
    pub.Write(MakePublish("t", std::string(100, 'c'), 1, 4));
    ASSERT_EQ(sub.Of<codec::Publish>().size(), 4u);
    sub.DropTransport();
  }
  codec::Connect again = first;
  again.properties.maximum_packet_size = 64;
  TestConn sub(broker, 0, ProtocolVersion::kV5);
  Connect(sub, again);
  auto got = sub.Of<codec::Publish>();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload.str(), "small");
  EXPECT_TRUE(got[0].dup);
  sub.Write(MakeAck<codec::Puback>(got[0].packet_id));
  EXPECT_EQ(broker.Stats().inflight, 0);
}

TEST(RegressionTest, FailureInPacketPipelinedBehindCrossShardConnectIsContained) {
  // CONNECT and PUBLISH arrive in one read while the session is being fetched from another
  // shard; the PUBLISH is dispatched later from a posted task. A handler failure there must be
  // contained like any other: that client closed, counted, the shard's loop unharmed.
  BrokerOptions options = InlineOptions(2);
  options.debug_fault_injection = true;
  Broker broker(options);
  {
    TestConn old_conn(broker, 0, ProtocolVersion::kV311);
    Connect(old_conn, "c", /*clean_start=*/false);
    old_conn.Write(codec::Disconnect{});
  }
  TestConn conn(broker, 1, ProtocolVersion::kV311);
  std::string bytes;
  codec::Encode(MakeConnect(ProtocolVersion::kV311, "c", false), ProtocolVersion::kV311, bytes);
  codec::Encode(MakePublish("$meshmq/debug/throw", "x", 0), ProtocolVersion::kV311, bytes);
  EXPECT_NO_THROW(conn.WriteBytes(bytes));
  EXPECT_TRUE(conn.closed());
  EXPECT_EQ(broker.Stats().session_failures, 1u);
}

TEST(RegressionTest, CleanReconnectOnAnotherShardSendsPendingWill) {
  // Same as WillTest.CleanReconnectSameShardSendsPendingWill, but the client comes back on
  // another shard: Shard::ExtractSession drops the pending will (SessionState has no field for
  // it), so the will is never published.
  Broker broker(InlineOptions(2));
  TestConn watcher(broker, 0, ProtocolVersion::kV311);
  Connect(watcher, "watcher");
  Subscribe(watcher, "will/#", 1);
  {
    TestConn c(broker, 0, ProtocolVersion::kV5);
    codec::Connect connect = MakeConnect(ProtocolVersion::kV5, "c", false);
    connect.properties.session_expiry_interval = 60;
    codec::Will will;
    will.topic = "will/t";
    will.payload = codec::SharedBytes(std::string("gone"));
    will.qos = 1;
    will.properties.will_delay_interval = 30;
    connect.will = will;
    Connect(c, connect);
    c.DropTransport();
  }
  TestConn again(broker, 1, ProtocolVersion::kV5);
  auto ack = Connect(again, MakeConnect(ProtocolVersion::kV5, "c", /*clean_start=*/true));
  ASSERT_TRUE(ack);
  EXPECT_THAT(Payloads(watcher.Of<codec::Publish>()), ElementsAre("gone"));
}

}  // namespace
}  // namespace meshmq::broker::testing
