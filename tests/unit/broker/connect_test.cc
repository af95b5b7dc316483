// CONNECT handling of broker::Client: CONNACK for 3.1.1 and 5.0, v5 CONNACK properties, client id
// rules and the packets that must close a connection before or after CONNECT.
#include <string>

#include "broker_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meshmq::broker::testing {
namespace {

using ::testing::StartsWith;

TEST(ConnectTest, V311ConnackIsByteExact) {
  Broker broker(InlineOptions());
  TestConn conn(broker, 0, ProtocolVersion::kV311);
  std::string wire;
  codec::Encode(MakeConnect(ProtocolVersion::kV311, "c1"), ProtocolVersion::kV311, wire);
  conn.WriteBytes(wire);
  auto acks = conn.Of<codec::Connack>();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_FALSE(acks[0].session_present);
  EXPECT_EQ(acks[0].reason_code, ReasonCode::kSuccess);
  EXPECT_FALSE(conn.closed());
}

TEST(ConnectTest, V5ConnackCarriesServerLimits) {
  BrokerOptions options = InlineOptions();
  options.max_inflight = 7;
  options.max_packet_size = 4096;
  options.max_topic_alias = 9;
  Broker broker(options);
  TestConn conn(broker, 0, ProtocolVersion::kV5);
  auto ack = Connect(conn, "c1");
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->reason_code, ReasonCode::kSuccess);
  EXPECT_EQ(ack->properties.receive_maximum, 7);
  EXPECT_EQ(ack->properties.maximum_packet_size, 4096u);
  EXPECT_EQ(ack->properties.topic_alias_maximum, 9);
  // The client chose its id, so none is assigned [MQTT-3.2.2-16].
  EXPECT_FALSE(ack->properties.assigned_client_identifier);
}

TEST(ConnectTest, V5EmptyClientIdGetsAssignedId) {
  Broker broker(InlineOptions());
  TestConn conn(broker, 0, ProtocolVersion::kV5);
  auto ack = Connect(conn, "", /*clean_start=*/false);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->reason_code, ReasonCode::kSuccess);
  ASSERT_TRUE(ack->properties.assigned_client_identifier);
  EXPECT_THAT(*ack->properties.assigned_client_identifier, StartsWith("meshmq-"));
  std::string id;
  conn.WithClient([&](Client* c) { id = c->client_id(); });
  EXPECT_EQ(id, *ack->properties.assigned_client_identifier);
}

TEST(ConnectTest, V311EmptyClientIdWithCleanSessionIsAccepted) {
  Broker broker(InlineOptions());
  TestConn conn(broker, 0, ProtocolVersion::kV311);
  auto ack = Connect(conn, "", /*clean_start=*/true);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->reason_code, ReasonCode::kSuccess);
  EXPECT_FALSE(conn.closed());
}

TEST(ConnectTest, V311EmptyClientIdWithoutCleanSessionIsRejected) {
  // [MQTT-3.1.3-8]: CONNACK return code 2 (identifier rejected), then close.
  Broker broker(InlineOptions());
  TestConn conn(broker, 0, ProtocolVersion::kV311);
  conn.Write(MakeConnect(ProtocolVersion::kV311, "", /*clean_start=*/false));
  auto acks = conn.Of<codec::Connack>();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].reason_code, ReasonCode::kClientIdentifierNotValid);
  EXPECT_TRUE(conn.closed());
}

TEST(ConnectTest, V31EmptyClientIdIsRejected) {
  Broker broker(InlineOptions());
  TestConn conn(broker, 0, ProtocolVersion::kV31);
  conn.Write(MakeConnect(ProtocolVersion::kV31, ""));
  auto acks = conn.Of<codec::Connack>();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].reason_code, ReasonCode::kClientIdentifierNotValid);
  EXPECT_TRUE(conn.closed());
}

TEST(ConnectTest, UnsupportedProtocolLevelGetsConnackCode1) {
  Broker broker(InlineOptions());
  TestConn conn(broker, 0, ProtocolVersion::kV311);
  // CONNECT, remaining length 12: "MQTT", level 6, flags 0x02, keep alive 0, client id "a".
  conn.WriteBytes(std::string("\x10\x0d\x00\x04MQTT\x06\x02\x00\x00\x00\x01\x61", 15));
  auto acks = conn.Of<codec::Connack>();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].reason_code, ReasonCode::kUnsupportedProtocolVersion);
  EXPECT_TRUE(conn.closed());
}

TEST(ConnectTest, FirstPacketNotConnectClosesWithoutReply) {
  // [MQTT-3.1.0-1]
  Broker broker(InlineOptions());
  TestConn conn(broker, 0, ProtocolVersion::kV311);
  conn.Write(codec::Pingreq{});
  EXPECT_TRUE(conn.closed());
  EXPECT_EQ(conn.Types(), "");
}

TEST(ConnectTest, PublishBeforeConnectClosesAndRoutesNothing) {
  Broker broker(InlineOptions());
  TestConn sub(broker, 0, ProtocolVersion::kV311);
  Connect(sub, "sub");
  Subscribe(sub, "t", 0);
  TestConn bad(broker, 0, ProtocolVersion::kV311);
  bad.Write(MakePublish("t", "x"));
  EXPECT_TRUE(bad.closed());
  EXPECT_TRUE(sub.Of<codec::Publish>().empty());
}

TEST(ConnectTest, SecondConnectClosesV5WithProtocolError) {
  // [MQTT-3.1.0-2]
  Broker broker(InlineOptions());
  TestConn conn(broker, 0, ProtocolVersion::kV5);
  ASSERT_TRUE(Connect(conn, "c1"));
  conn.Write(MakeConnect(ProtocolVersion::kV5, "c1"));
  EXPECT_TRUE(conn.closed());
  auto d = conn.Of<codec::Disconnect>();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reason_code, ReasonCode::kProtocolError);
}

TEST(ConnectTest, SecondConnectClosesV311) {
  Broker broker(InlineOptions());
  TestConn conn(broker, 0, ProtocolVersion::kV311);
  ASSERT_TRUE(Connect(conn, "c1"));
  conn.Write(MakeConnect(ProtocolVersion::kV311, "c1"));
  EXPECT_TRUE(conn.closed());
  EXPECT_EQ(conn.Types(), "CONNACK");
}

// A client keeps no decoder between packets (OnBytes decodes each read with one on the stack);
// a packet split across reads is held by a decoder of its own until it is complete.
TEST(ConnectTest, PacketsSplitAcrossReadsByteByByte) {
  Broker broker(InlineOptions());
  TestConn sub(broker, 0, ProtocolVersion::kV5);
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  std::string bytes;
  codec::Encode(MakeConnect(ProtocolVersion::kV5, "split-sub"), ProtocolVersion::kV5, bytes);
  codec::Subscribe subscribe;
  subscribe.packet_id = 1;
  subscribe.subscriptions.push_back(codec::SubscribeRequest{.filter = "a/b"});
  codec::Encode(subscribe, ProtocolVersion::kV5, bytes);
  for (char c : bytes) sub.WriteBytes(std::string(1, c));
  EXPECT_EQ(sub.Types(), "CONNACK,SUBACK");
  ASSERT_TRUE(Connect(pub, "split-pub"));
  std::string publish;
  codec::Encode(MakePublish("a/b", "one"), ProtocolVersion::kV5, publish);
  codec::Encode(MakePublish("a/b", "two"), ProtocolVersion::kV5, publish);
  // Two packets cut in the middle of the first, then the rest in one read.
  pub.WriteBytes(publish.substr(0, 5));
  pub.WriteBytes(publish.substr(5));
  auto got = sub.Of<codec::Publish>();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].payload.str(), "one");
  EXPECT_EQ(got[1].payload.str(), "two");
  EXPECT_FALSE(sub.closed());
  EXPECT_FALSE(pub.closed());
}

TEST(ConnectTest, SecondConnectSplitAcrossReadsClosesWithProtocolError) {
  // [MQTT-3.1.0-2], also when the second CONNECT arrives in pieces (its decoder is a new one).
  Broker broker(InlineOptions());
  TestConn conn(broker, 0, ProtocolVersion::kV5);
  ASSERT_TRUE(Connect(conn, "c1"));
  std::string bytes;
  codec::Encode(MakeConnect(ProtocolVersion::kV5, "c1"), ProtocolVersion::kV5, bytes);
  for (char c : bytes) conn.WriteBytes(std::string(1, c));
  EXPECT_TRUE(conn.closed());
  auto d = conn.Of<codec::Disconnect>();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reason_code, ReasonCode::kProtocolError);
}

TEST(ConnectTest, MalformedSecondConnectClosesWithProtocolErrorNotAConnackCode) {
  // Found by the connection fuzzer: a second CONNECT with a bad protocol level failed with 0x84
  // (Unsupported Protocol Version), a code DISCONNECT may not carry.
  Broker broker(InlineOptions());
  TestConn conn(broker, 0, ProtocolVersion::kV5);
  ASSERT_TRUE(Connect(conn, "c1"));
  std::string bytes;
  codec::Encode(MakeConnect(ProtocolVersion::kV5, "c1"), ProtocolVersion::kV5, bytes);
  ASSERT_EQ(bytes[8], 5);  // 0x10, length, "\0\4MQTT", protocol level
  bytes[8] = 7;
  conn.WriteBytes(bytes);
  EXPECT_TRUE(conn.closed());
  EXPECT_FALSE(conn.decode_error());
  auto d = conn.Of<codec::Disconnect>();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reason_code, ReasonCode::kProtocolError);
}

TEST(ConnectTest, PingreqGetsPingresp) {
  Broker broker(InlineOptions());
  TestConn conn(broker, 0, ProtocolVersion::kV5);
  Connect(conn, "c1");
  conn.Write(codec::Pingreq{});
  EXPECT_EQ(conn.Types(), "CONNACK,PINGRESP");
}

TEST(ConnectTest, AuthenticationMethodIsRefusedWithBadAuthMethod) {
  Broker broker(InlineOptions());
  TestConn conn(broker, 0, ProtocolVersion::kV5);
  codec::Connect c = MakeConnect(ProtocolVersion::kV5, "c1");
  c.properties.authentication_method = "SCRAM-SHA-1";
  conn.Write(c);
  auto acks = conn.Of<codec::Connack>();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].reason_code, ReasonCode::kBadAuthenticationMethod);
  EXPECT_TRUE(conn.closed());
}

TEST(ConnectTest, ServerOnlyPacketFromClientClosesV5WithProtocolError) {
  // A CONNACK from a client is rejected by the server-role decoder or the dispatcher.
  Broker broker(InlineOptions());
  TestConn conn(broker, 0, ProtocolVersion::kV5);
  Connect(conn, "c1");
  conn.WriteBytes(std::string("\x20\x03\x00\x00\x00", 5));
  EXPECT_TRUE(conn.closed());
  auto d = conn.Of<codec::Disconnect>();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_GE(static_cast<int>(d[0].reason_code), 0x80);
}

TEST(ConnectTest, ConnectTimeoutClosesSilentConnection) {
  BrokerOptions options = InlineOptions();
  options.connect_timeout_ms = 100;
  Broker broker(options);
  TestConn conn(broker, 0, ProtocolVersion::kV311);
  RunFor(broker, std::chrono::milliseconds(250));
  EXPECT_TRUE(conn.closed());
}

TEST(ConnectTest, MaxConnectionsRefusesWithQuotaExceeded) {
  BrokerOptions options = InlineOptions();
  options.max_connections = 1;
  Broker broker(options);
  TestConn a(broker, 0, ProtocolVersion::kV5);
  ASSERT_EQ(Connect(a, "a")->reason_code, ReasonCode::kSuccess);
  TestConn b(broker, 0, ProtocolVersion::kV5);
  b.Write(MakeConnect(ProtocolVersion::kV5, "b"));
  auto acks = b.Of<codec::Connack>();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].reason_code, ReasonCode::kQuotaExceeded);
  EXPECT_TRUE(b.closed());
}

}  // namespace
}  // namespace meshmq::broker::testing
