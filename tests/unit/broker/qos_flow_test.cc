// QoS 0/1/2 flows through broker::Client in both directions: acknowledgements of client
// publishes, QoS 2 de-duplication, receive maximum, the outbound window and packet ids.
#include <set>
#include <string>

#include "broker_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meshmq::broker::testing {
namespace {

using ::testing::ElementsAre;

TEST(QosFlowTest, Qos0PublishGetsNoAck) {
  Broker broker(InlineOptions());
  TestConn pub(broker, 0, ProtocolVersion::kV311);
  Connect(pub, "p");
  pub.Write(MakePublish("t", "x", 0));
  EXPECT_EQ(pub.Types(), "CONNACK");
  EXPECT_EQ(broker.Stats().messages_received[0], 1u);
}

TEST(QosFlowTest, Qos1PublishGetsPuback) {
  Broker broker(InlineOptions());
  TestConn pub(broker, 0, ProtocolVersion::kV311);
  Connect(pub, "p");
  pub.Write(MakePublish("t", "x", 1, 17));
  auto acks = pub.Of<codec::Puback>();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].packet_id, 17);
  EXPECT_EQ(broker.Stats().messages_received[1], 1u);
}

TEST(QosFlowTest, V5Qos1WithoutSubscribersAcksNoMatchingSubscribers) {
  Broker broker(InlineOptions());
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  pub.Write(MakePublish("nobody", "x", 1, 3));
  auto acks = pub.Of<codec::Puback>();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].reason_code, ReasonCode::kNoMatchingSubscribers);
}

TEST(QosFlowTest, Qos2PublishFullExchange) {
  Broker broker(InlineOptions());
  TestConn sub(broker, 0, ProtocolVersion::kV311);
  Connect(sub, "s");
  Subscribe(sub, "t", 2);
  TestConn pub(broker, 0, ProtocolVersion::kV311);
  Connect(pub, "p");
  pub.Write(MakePublish("t", "x", 2, 5));
  EXPECT_EQ(pub.Types(), "CONNACK,PUBREC");
  EXPECT_EQ(pub.Of<codec::Pubrec>()[0].packet_id, 5);
  pub.Write(MakeAck<codec::Pubrel>(5));
  EXPECT_EQ(pub.Types(), "CONNACK,PUBREC,PUBCOMP");
  EXPECT_EQ(pub.Of<codec::Pubcomp>()[0].packet_id, 5);
  // The message is routed on PUBLISH (method A), once.
  EXPECT_THAT(Payloads(sub.Of<codec::Publish>()), ElementsAre("x"));
}

TEST(QosFlowTest, DuplicateQos2PublishIsRoutedOnce) {
  // [MQTT-4.3.3-9]: a resent PUBLISH with the same id before PUBREL is acknowledged, not routed.
  Broker broker(InlineOptions());
  TestConn sub(broker, 0, ProtocolVersion::kV311);
  Connect(sub, "s");
  Subscribe(sub, "t", 2);
  TestConn pub(broker, 0, ProtocolVersion::kV311);
  Connect(pub, "p");
  pub.Write(MakePublish("t", "x", 2, 9));
  codec::Publish again = MakePublish("t", "x", 2, 9);
  again.dup = true;
  pub.Write(again);
  EXPECT_EQ(pub.Of<codec::Pubrec>().size(), 2u);
  EXPECT_EQ(sub.Of<codec::Publish>().size(), 1u);
  pub.Write(MakeAck<codec::Pubrel>(9));
  // After PUBREL the id is free again: a new PUBLISH with it is a new message.
  pub.Write(MakePublish("t", "y", 2, 9));
  EXPECT_THAT(Payloads(sub.Of<codec::Publish>()), ElementsAre("x", "y"));
}

TEST(QosFlowTest, UnknownPubrelGetsPubcompNotFoundInV5) {
  Broker broker(InlineOptions());
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  pub.Write(MakeAck<codec::Pubrel>(44));
  auto comps = pub.Of<codec::Pubcomp>();
  ASSERT_EQ(comps.size(), 1u);
  EXPECT_EQ(comps[0].reason_code, ReasonCode::kPacketIdentifierNotFound);
}

TEST(QosFlowTest, ReceiveMaximumExceededDisconnects0x93) {
  // [MQTT-3.3.4-7]: more unacknowledged QoS 2 publishes than our Receive Maximum.
  BrokerOptions options = InlineOptions();
  options.max_inflight = 2;
  Broker broker(options);
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  pub.Write(MakePublish("t", "1", 2, 1));
  pub.Write(MakePublish("t", "2", 2, 2));
  EXPECT_FALSE(pub.closed());
  pub.Write(MakePublish("t", "3", 2, 3));
  EXPECT_TRUE(pub.closed());
  auto d = pub.Of<codec::Disconnect>();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reason_code, ReasonCode::kReceiveMaximumExceeded);
}

TEST(QosFlowTest, CompletedQos2ExchangesDoNotCountAgainstReceiveMaximum) {
  BrokerOptions options = InlineOptions();
  options.max_inflight = 1;
  Broker broker(options);
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  for (uint16_t id = 1; id <= 5; ++id) {
    pub.Write(MakePublish("t", "x", 2, id));
    pub.Write(MakeAck<codec::Pubrel>(id));
  }
  EXPECT_FALSE(pub.closed());
  EXPECT_EQ(pub.Of<codec::Pubcomp>().size(), 5u);
}

TEST(QosFlowTest, DeliveredQosIsMinOfPublishedAndGranted) {
  Broker broker(InlineOptions());
  TestConn s1(broker, 0, ProtocolVersion::kV311);
  Connect(s1, "s1");
  EXPECT_THAT(Subscribe(s1, "t", 1), ElementsAre(ReasonCode::kGrantedQos1));
  TestConn pub(broker, 0, ProtocolVersion::kV311);
  Connect(pub, "p");
  pub.Write(MakePublish("t", "q2", 2, 1));
  pub.Write(MakePublish("t", "q0", 0));
  auto got = s1.Of<codec::Publish>();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].qos, 1);
  EXPECT_NE(got[0].packet_id, 0);
  EXPECT_EQ(got[1].qos, 0);
  EXPECT_EQ(got[1].packet_id, 0);
}

TEST(QosFlowTest, OutboundWindowHoldsBackUntilPuback) {
  BrokerOptions options = InlineOptions();
  options.max_inflight = 2;
  Broker broker(options);
  TestConn sub(broker, 0, ProtocolVersion::kV311);
  Connect(sub, "s");
  Subscribe(sub, "t", 1);
  TestConn pub(broker, 0, ProtocolVersion::kV311);
  Connect(pub, "p");
  for (int i = 0; i < 5; ++i) pub.Write(MakePublish("t", std::to_string(i), 1, i + 1));
  auto got = sub.Of<codec::Publish>();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_THAT(Payloads(got), ElementsAre("0", "1"));
  sub.Write(MakeAck<codec::Puback>(got[0].packet_id));
  EXPECT_THAT(Payloads(sub.Of<codec::Publish>()), ElementsAre("0", "1", "2"));
  got = sub.Of<codec::Publish>();
  sub.Write(MakeAck<codec::Puback>(got[1].packet_id));
  sub.Write(MakeAck<codec::Puback>(got[2].packet_id));
  EXPECT_THAT(Payloads(sub.Of<codec::Publish>()), ElementsAre("0", "1", "2", "3", "4"));
}

TEST(QosFlowTest, V5ClientReceiveMaximumIsRespected) {
  BrokerOptions options = InlineOptions();
  options.max_inflight = 10;
  Broker broker(options);
  TestConn sub(broker, 0, ProtocolVersion::kV5);
  codec::Connect c = MakeConnect(ProtocolVersion::kV5, "s");
  c.properties.receive_maximum = 1;
  Connect(sub, c);
  Subscribe(sub, "t", 2);
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  for (int i = 0; i < 3; ++i) pub.Write(MakePublish("t", std::to_string(i), 2, i + 1));
  auto got = sub.Of<codec::Publish>();
  ASSERT_EQ(got.size(), 1u);
  // QoS 2 outbound: PUBREC -> PUBREL, and only PUBCOMP frees the slot.
  sub.Write(MakeAck<codec::Pubrec>(got[0].packet_id));
  EXPECT_EQ(sub.Of<codec::Pubrel>().size(), 1u);
  EXPECT_EQ(sub.Of<codec::Publish>().size(), 1u);
  sub.Write(MakeAck<codec::Pubcomp>(got[0].packet_id));
  EXPECT_THAT(Payloads(sub.Of<codec::Publish>()), ElementsAre("0", "1"));
}

TEST(QosFlowTest, InflightPacketIdsAreNonZeroAndUnique) {
  BrokerOptions options = InlineOptions();
  options.max_inflight = 20;
  Broker broker(options);
  TestConn sub(broker, 0, ProtocolVersion::kV311);
  Connect(sub, "s");
  Subscribe(sub, "t", 1);
  TestConn pub(broker, 0, ProtocolVersion::kV311);
  Connect(pub, "p");
  for (int i = 0; i < 20; ++i) pub.Write(MakePublish("t", "x", 1, i + 1));
  std::set<uint16_t> ids;
  for (const auto& p : sub.Of<codec::Publish>()) {
    EXPECT_NE(p.packet_id, 0);
    ids.insert(p.packet_id);
  }
  EXPECT_EQ(ids.size(), 20u);
}

TEST(QosFlowTest, PacketIdsWrapWithoutReusingInflightIds) {
  // Keep one id in flight and push 66000 messages through a second slot: the allocator wraps past
  // 65535 and must skip 0 and the id still in flight [MQTT-2.2.1-3].
  BrokerOptions options = InlineOptions();
  options.max_inflight = 2;
  Broker broker(options);
  TestConn sub(broker, 0, ProtocolVersion::kV311);
  Connect(sub, "s");
  Subscribe(sub, "t", 1);
  TestConn pub(broker, 0, ProtocolVersion::kV311);
  Connect(pub, "p");
  pub.Write(MakePublish("t", "held", 1, 1));
  uint16_t held = sub.Of<codec::Publish>().at(0).packet_id;
  sub.Clear();
  for (int i = 0; i < 66000; ++i) {
    pub.Write(MakePublish("t", "x", 1, 2));
    auto got = sub.Of<codec::Publish>();
    ASSERT_EQ(got.size(), 1u) << i;
    ASSERT_NE(got[0].packet_id, 0) << i;
    ASSERT_NE(got[0].packet_id, held) << i;
    sub.Write(MakeAck<codec::Puback>(got[0].packet_id));
    sub.Clear();
    pub.Clear();
  }
}

TEST(QosFlowTest, PubrecErrorEndsOutboundQos2Exchange) {
  BrokerOptions options = InlineOptions();
  options.max_inflight = 1;
  Broker broker(options);
  TestConn sub(broker, 0, ProtocolVersion::kV5);
  Connect(sub, "s");
  Subscribe(sub, "t", 2);
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  pub.Write(MakePublish("t", "a", 2, 1));
  pub.Write(MakeAck<codec::Pubrel>(1));  // our receive maximum is 1 too
  pub.Write(MakePublish("t", "b", 2, 2));
  pub.Write(MakeAck<codec::Pubrel>(2));
  ASSERT_FALSE(pub.closed());
  auto got = sub.Of<codec::Publish>();
  ASSERT_EQ(got.size(), 1u);
  codec::Pubrec refuse = MakeAck<codec::Pubrec>(got[0].packet_id);
  refuse.reason_code = ReasonCode::kUnspecifiedError;
  sub.Write(refuse);
  // No PUBREL for a refused message [MQTT-4.3.3-4]; the window moves on.
  EXPECT_TRUE(sub.Of<codec::Pubrel>().empty());
  EXPECT_THAT(Payloads(sub.Of<codec::Publish>()), ElementsAre("a", "b"));
}

TEST(QosFlowTest, StatsCountMessagesByQos) {
  Broker broker(InlineOptions());
  TestConn sub(broker, 0, ProtocolVersion::kV311);
  Connect(sub, "s");
  Subscribe(sub, "t", 2);
  TestConn pub(broker, 0, ProtocolVersion::kV311);
  Connect(pub, "p");
  pub.Write(MakePublish("t", "a", 0));
  pub.Write(MakePublish("t", "b", 1, 1));
  pub.Write(MakePublish("t", "c", 2, 2));
  pub.Write(MakePublish("t", "d", 2, 3));
  StatsSnapshot st = broker.Stats();
  EXPECT_EQ(st.messages_received[0], 1u);
  EXPECT_EQ(st.messages_received[1], 1u);
  EXPECT_EQ(st.messages_received[2], 2u);
  EXPECT_EQ(st.messages_sent[0], 1u);
  EXPECT_EQ(st.messages_sent[1], 1u);
  EXPECT_EQ(st.messages_sent[2], 2u);
  EXPECT_EQ(st.inflight, 3);
}

}  // namespace
}  // namespace meshmq::broker::testing
