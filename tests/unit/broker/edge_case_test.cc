// Corner cases where two broker features meet: QoS 2 state across connections, packets
// pipelined behind a cross-shard CONNECT, CONNECT properties with forbidden values, and nothing
// sent after close.
#include <string>

#include "broker_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meshmq::broker::testing {
namespace {

using ::testing::ElementsAre;

TEST(EdgeCaseTest, Qos2StateSurvivesReconnect) {
  // The client resends an unreleased QoS 2 PUBLISH after reconnecting: acknowledged again, not
  // routed twice [MQTT-4.3.3-9], and PUBREL still completes it.
  Broker broker(InlineOptions());
  TestConn sub(broker, 0, ProtocolVersion::kV311);
  Connect(sub, "sub");
  Subscribe(sub, "t", 2);
  {
    TestConn pub(broker, 0, ProtocolVersion::kV311);
    Connect(pub, "p", /*clean_start=*/false);
    pub.Write(MakePublish("t", "once", 2, 42));
    ASSERT_EQ(pub.Of<codec::Pubrec>().size(), 1u);
    pub.DropTransport();
  }
  TestConn pub(broker, 0, ProtocolVersion::kV311);
  EXPECT_TRUE(Connect(pub, "p", false)->session_present);
  codec::Publish dup = MakePublish("t", "once", 2, 42);
  dup.dup = true;
  pub.Write(dup);
  pub.Write(MakeAck<codec::Pubrel>(42));
  EXPECT_EQ(pub.Types(), "CONNACK,PUBREC,PUBCOMP");
  EXPECT_EQ(pub.Of<codec::Pubcomp>()[0].packet_id, 42);
  EXPECT_EQ(sub.Of<codec::Publish>().size(), 1u);
}

TEST(EdgeCaseTest, PacketsPipelinedBehindCrossShardConnectAreProcessedInOrder) {
  Broker broker(InlineOptions(2));
  TestConn sub(broker, 0, ProtocolVersion::kV311);
  Connect(sub, "sub");
  Subscribe(sub, "t", 1);
  {
    TestConn old_conn(broker, 0, ProtocolVersion::kV311);
    Connect(old_conn, "c", false);
    old_conn.Write(codec::Disconnect{});
  }
  TestConn conn(broker, 1, ProtocolVersion::kV311);
  std::string bytes;
  codec::Encode(MakeConnect(ProtocolVersion::kV311, "c", false), ProtocolVersion::kV311, bytes);
  codec::Encode(MakePublish("t", "1", 1, 1), ProtocolVersion::kV311, bytes);
  codec::Encode(MakePublish("t", "2", 1, 2), ProtocolVersion::kV311, bytes);
  conn.WriteBytes(bytes);
  EXPECT_EQ(conn.Types(), "CONNACK,PUBACK,PUBACK");
  EXPECT_TRUE(conn.Of<codec::Connack>()[0].session_present);
  EXPECT_THAT(Payloads(sub.Of<codec::Publish>()), ElementsAre("1", "2"));
}

TEST(EdgeCaseTest, ReceiveMaximumZeroIsProtocolError) {
  // Receive Maximum 0 is a Protocol Error (spec 3.1.2.11.3); accepting it would stall QoS 1/2.
  Broker broker(InlineOptions());
  TestConn conn(broker, 0, ProtocolVersion::kV5);
  codec::Connect c = MakeConnect(ProtocolVersion::kV5, "c");
  c.properties.receive_maximum = 0;
  conn.Write(c);
  EXPECT_TRUE(conn.closed());
  auto acks = conn.Of<codec::Connack>();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].reason_code, ReasonCode::kProtocolError);
}

TEST(EdgeCaseTest, MaximumPacketSizeZeroIsProtocolError) {
  Broker broker(InlineOptions());
  TestConn conn(broker, 0, ProtocolVersion::kV5);
  codec::Connect c = MakeConnect(ProtocolVersion::kV5, "c");
  c.properties.maximum_packet_size = 0;
  conn.Write(c);
  EXPECT_TRUE(conn.closed());
  auto acks = conn.Of<codec::Connack>();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].reason_code, ReasonCode::kProtocolError);
}

TEST(EdgeCaseTest, NothingIsSentAfterClose) {
  // A client closed for a protocol error gets nothing more, even when messages arrive for its
  // session before the transport reports the socket gone.
  Broker broker(InlineOptions());
  TestConn sub(broker, 0, ProtocolVersion::kV5);
  Connect(sub, "s");
  Subscribe(sub, "t", 0);
  sub.Write(codec::Auth{});
  EXPECT_TRUE(sub.closed());
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  pub.Write(MakePublish("t", "x", 0));
  EXPECT_EQ(sub.sends_after_close(), 0);
}

}  // namespace
}  // namespace meshmq::broker::testing
