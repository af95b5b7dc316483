// Persistent sessions of broker::Client on one shard: queueing while offline, resume with resend,
// queue limits, v5 session expiry, clean start, and takeover by a second connection.
#include <algorithm>
#include <random>
#include <set>
#include <string>

#include "broker_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meshmq::broker::testing {
namespace {

using ::testing::ElementsAre;

// A publisher connected on shard 0.
struct Fixture {
  explicit Fixture(BrokerOptions options = InlineOptions())
      : broker(options), pub(broker, 0, ProtocolVersion::kV311) {
    Connect(pub, "pub");
  }
  void Publish(const std::string& topic, const std::string& payload, uint8_t qos) {
    pub.Write(MakePublish(topic, payload, qos, ++next_id));
  }
  Broker broker;
  TestConn pub;
  uint16_t next_id = 0;
};

TEST(SessionTest, OfflineSessionQueuesQos1And2ButNotQos0) {
  Fixture f;
  {
    TestConn sub(f.broker, 0, ProtocolVersion::kV311);
    ASSERT_FALSE(Connect(sub, "s", /*clean_start=*/false)->session_present);
    Subscribe(sub, "t", 2);
    sub.Write(codec::Disconnect{});
    EXPECT_TRUE(sub.closed());
  }
  f.Publish("t", "q0", 0);
  f.Publish("t", "q1", 1);
  f.Publish("t", "q2", 2);
  TestConn sub(f.broker, 0, ProtocolVersion::kV311);
  auto ack = Connect(sub, "s", /*clean_start=*/false);
  ASSERT_TRUE(ack);
  EXPECT_TRUE(ack->session_present);
  auto got = sub.Of<codec::Publish>();
  EXPECT_THAT(Payloads(got), ElementsAre("q1", "q2"));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].qos, 1);
  EXPECT_EQ(got[1].qos, 2);
  // And the subscription survived: live delivery works without subscribing again.
  f.Publish("t", "live", 0);
  EXPECT_EQ(sub.Of<codec::Publish>().back().payload.str(), "live");
}

TEST(SessionTest, ResumeResendsInflightWithDupBeforeQueue) {
  BrokerOptions options = InlineOptions();
  options.max_inflight = 1;
  Fixture f(options);
  uint16_t first_id = 0;
  {
    TestConn sub(f.broker, 0, ProtocolVersion::kV311);
    Connect(sub, "s", false);
    Subscribe(sub, "t", 1);
    f.Publish("t", "a", 1);  // in flight, never acknowledged
    f.Publish("t", "b", 1);  // queued behind the window
    auto got = sub.Of<codec::Publish>();
    ASSERT_EQ(got.size(), 1u);
    first_id = got[0].packet_id;
    sub.DropTransport();
  }
  f.Publish("t", "c", 1);
  TestConn sub(f.broker, 0, ProtocolVersion::kV311);
  Connect(sub, "s", false);
  auto got = sub.Of<codec::Publish>();
  ASSERT_EQ(got.size(), 1u);  // the window still holds "a"
  EXPECT_EQ(got[0].payload.str(), "a");
  EXPECT_TRUE(got[0].dup);
  EXPECT_EQ(got[0].packet_id, first_id);  // [MQTT-4.4.0-1] same packet id
  sub.Write(MakeAck<codec::Puback>(first_id));
  got = sub.Of<codec::Publish>();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].payload.str(), "b");
  EXPECT_FALSE(got[1].dup);
  sub.Write(MakeAck<codec::Puback>(got[1].packet_id));
  EXPECT_THAT(Payloads(sub.Of<codec::Publish>()), ElementsAre("a", "b", "c"));
}

TEST(SessionTest, ResumeAfterPubrecResendsPubrel) {
  Fixture f;
  uint16_t id = 0;
  {
    TestConn sub(f.broker, 0, ProtocolVersion::kV311);
    Connect(sub, "s", false);
    Subscribe(sub, "t", 2);
    f.Publish("t", "a", 2);
    id = sub.Of<codec::Publish>().at(0).packet_id;
    sub.Write(MakeAck<codec::Pubrec>(id));
    ASSERT_EQ(sub.Of<codec::Pubrel>().size(), 1u);
    sub.DropTransport();
  }
  TestConn sub(f.broker, 0, ProtocolVersion::kV311);
  Connect(sub, "s", false);
  EXPECT_EQ(sub.Types(), "CONNACK,PUBREL");
  EXPECT_EQ(sub.Of<codec::Pubrel>().at(0).packet_id, id);
  sub.Write(MakeAck<codec::Pubcomp>(id));
  EXPECT_EQ(f.broker.Stats().inflight, 0);
}

TEST(SessionTest, QueueLimitDropsAndCounts) {
  BrokerOptions options = InlineOptions();
  options.max_queued_messages = 3;
  Fixture f(options);
  {
    TestConn sub(f.broker, 0, ProtocolVersion::kV311);
    Connect(sub, "s", false);
    Subscribe(sub, "t", 1);
    sub.Write(codec::Disconnect{});
  }
  for (int i = 0; i < 5; ++i) f.Publish("t", std::to_string(i), 1);
  EXPECT_EQ(f.broker.Stats().dropped[static_cast<int>(DropReason::kQueueFull)], 2u);
  TestConn sub(f.broker, 0, ProtocolVersion::kV311);
  Connect(sub, "s", false);
  EXPECT_THAT(Payloads(sub.Of<codec::Publish>()), ElementsAre("0", "1", "2"));
}

TEST(SessionTest, CleanStartDiscardsPreviousSession) {
  Fixture f;
  {
    TestConn sub(f.broker, 0, ProtocolVersion::kV311);
    Connect(sub, "s", false);
    Subscribe(sub, "t", 1);
    sub.Write(codec::Disconnect{});
  }
  f.Publish("t", "queued", 1);
  TestConn sub(f.broker, 0, ProtocolVersion::kV311);
  auto ack = Connect(sub, "s", /*clean_start=*/true);
  EXPECT_FALSE(ack->session_present);
  f.Publish("t", "after", 1);
  EXPECT_TRUE(sub.Of<codec::Publish>().empty());  // neither queue nor subscription survived
  EXPECT_EQ(f.broker.Stats().subscriptions, 0);
}

TEST(SessionTest, CleanSessionEndsWithConnection) {
  Fixture f;
  {
    TestConn sub(f.broker, 0, ProtocolVersion::kV311);
    Connect(sub, "s", true);
    Subscribe(sub, "t", 1);
    EXPECT_EQ(f.broker.Stats().subscriptions, 1);
  }
  EXPECT_EQ(f.broker.Stats().subscriptions, 0);
  EXPECT_EQ(f.broker.Stats().sessions, 1);  // only the publisher's
  TestConn sub(f.broker, 0, ProtocolVersion::kV311);
  EXPECT_FALSE(Connect(sub, "s", false)->session_present);
}

TEST(SessionTest, V5SessionExpiresAfterInterval) {
  Fixture f;
  auto connect = [](uint32_t expiry) {
    codec::Connect c = MakeConnect(ProtocolVersion::kV5, "s", /*clean_start=*/false);
    c.properties.session_expiry_interval = expiry;
    return c;
  };
  {
    TestConn sub(f.broker, 0, ProtocolVersion::kV5);
    Connect(sub, connect(1));
    Subscribe(sub, "t", 1);
    sub.Write(codec::Disconnect{});
  }
  EXPECT_EQ(f.broker.Stats().sessions_offline, 1);
  RunFor(f.broker, std::chrono::milliseconds(300));
  {
    // Still there before the interval ends.
    TestConn sub(f.broker, 0, ProtocolVersion::kV5);
    EXPECT_TRUE(Connect(sub, connect(1))->session_present);
    sub.Write(codec::Disconnect{});
  }
  RunFor(f.broker, std::chrono::milliseconds(1300));
  EXPECT_EQ(f.broker.Stats().sessions_offline, 0);
  EXPECT_EQ(f.broker.Stats().subscriptions, 0);
  TestConn sub(f.broker, 0, ProtocolVersion::kV5);
  EXPECT_FALSE(Connect(sub, connect(1))->session_present);
}

TEST(SessionTest, V5ZeroExpiryEndsSessionAtDisconnect) {
  Fixture f;
  {
    TestConn sub(f.broker, 0, ProtocolVersion::kV5);
    Connect(sub, "s", /*clean_start=*/false);  // no Session Expiry Interval = 0
    Subscribe(sub, "t", 1);
  }
  TestConn sub(f.broker, 0, ProtocolVersion::kV5);
  EXPECT_FALSE(Connect(sub, "s", false)->session_present);
}

TEST(SessionTest, V5DisconnectMayNotExtendZeroExpiry) {
  // [MQTT-3.14.2-2]
  Fixture f;
  TestConn sub(f.broker, 0, ProtocolVersion::kV5);
  Connect(sub, "s", false);
  codec::Disconnect d;
  d.properties.session_expiry_interval = 100;
  sub.Write(d);
  auto ds = sub.Of<codec::Disconnect>();
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].reason_code, ReasonCode::kProtocolError);
}

TEST(SessionTest, TakeoverSameShardV5OldGetsSessionTakenOver) {
  Fixture f;
  TestConn first(f.broker, 0, ProtocolVersion::kV5);
  codec::Connect c = MakeConnect(ProtocolVersion::kV5, "s", false);
  c.properties.session_expiry_interval = 60;
  Connect(first, c);
  Subscribe(first, "t", 1);
  TestConn second(f.broker, 0, ProtocolVersion::kV5);
  auto ack = Connect(second, c);
  ASSERT_TRUE(ack);
  EXPECT_TRUE(ack->session_present);
  EXPECT_TRUE(first.closed());
  auto d = first.Of<codec::Disconnect>();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reason_code, ReasonCode::kSessionTakenOver);
  f.Publish("t", "x", 1);
  EXPECT_THAT(Payloads(second.Of<codec::Publish>()), ElementsAre("x"));
  EXPECT_TRUE(first.Of<codec::Publish>().empty());
  EXPECT_EQ(first.sends_after_close(), 0);
}

TEST(SessionTest, TakeoverSameShardV311CleanSessionStartsFresh) {
  Fixture f;
  TestConn first(f.broker, 0, ProtocolVersion::kV311);
  Connect(first, "s", true);
  Subscribe(first, "t", 1);
  TestConn second(f.broker, 0, ProtocolVersion::kV311);
  auto ack = Connect(second, "s", true);
  ASSERT_TRUE(ack);
  EXPECT_FALSE(ack->session_present);
  EXPECT_TRUE(first.closed());
  f.Publish("t", "x", 1);
  EXPECT_TRUE(second.Of<codec::Publish>().empty());
}

TEST(SessionTest, OldConnectionClosingAfterTakeoverDoesNotHurtNewOne) {
  Fixture f;
  TestConn first(f.broker, 0, ProtocolVersion::kV311);
  Connect(first, "s", false);
  Subscribe(first, "t", 1);
  TestConn second(f.broker, 0, ProtocolVersion::kV311);
  Connect(second, "s", false);
  first.DropTransport();  // the old socket finally ends
  f.Publish("t", "x", 1);
  EXPECT_THAT(Payloads(second.Of<codec::Publish>()), ElementsAre("x"));
  EXPECT_EQ(f.broker.registry().ShardOf("s"), 0);
}

TEST(SessionTest, V5ExpiryAboveServerMaximumIsCappedAndAnnounced) {
  BrokerOptions options = InlineOptions();
  options.max_session_expiry = 100;
  Broker broker(options);
  TestConn c(broker, 0, ProtocolVersion::kV5);
  codec::Connect connect = MakeConnect(ProtocolVersion::kV5, "c", false);
  connect.properties.session_expiry_interval = 5000;
  auto ack = Connect(c, connect);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->properties.session_expiry_interval, 100u);
}

TEST(SessionTest, V5DisconnectCanShortenExpiryToZero) {
  Fixture f;
  codec::Connect connect = MakeConnect(ProtocolVersion::kV5, "s", false);
  connect.properties.session_expiry_interval = 60;
  {
    TestConn sub(f.broker, 0, ProtocolVersion::kV5);
    Connect(sub, connect);
    Subscribe(sub, "t", 1);
    codec::Disconnect d;
    d.properties.session_expiry_interval = 0;
    sub.Write(d);
    EXPECT_TRUE(sub.Of<codec::Disconnect>().empty());
  }
  EXPECT_EQ(f.broker.Stats().subscriptions, 0);
  TestConn sub(f.broker, 0, ProtocolVersion::kV5);
  EXPECT_FALSE(Connect(sub, connect)->session_present);
}

TEST(SessionTest, OfflineSharedMemberQueuesWhenItIsTheOnlyMember) {
  Fixture f;
  codec::Connect connect = MakeConnect(ProtocolVersion::kV5, "s", false);
  connect.properties.session_expiry_interval = 60;
  {
    TestConn sub(f.broker, 0, ProtocolVersion::kV5);
    Connect(sub, connect);
    Subscribe(sub, "$share/g/t", 1);
    sub.Write(codec::Disconnect{});
  }
  f.Publish("t", "for-later", 1);
  TestConn sub(f.broker, 0, ProtocolVersion::kV5);
  Connect(sub, connect);
  EXPECT_THAT(Payloads(sub.Of<codec::Publish>()), ElementsAre("for-later"));
}

TEST(SessionTest, KickClosesClientWithAdministrativeAction) {
  Fixture f;
  TestConn c(f.broker, 0, ProtocolVersion::kV5);
  Connect(c, "victim");
  std::optional<bool> found;
  f.broker.Kick("victim", [&](bool ok) { found = ok; });
  Settle(f.broker);
  ASSERT_TRUE(found);
  EXPECT_TRUE(*found);
  EXPECT_TRUE(c.closed());
  auto d = c.Of<codec::Disconnect>();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reason_code, ReasonCode::kAdministrativeAction);
  std::optional<bool> again;
  f.broker.Kick("victim", [&](bool ok) { again = ok; });
  Settle(f.broker);
  EXPECT_EQ(again, false);
}

TEST(SessionTest, BrokerPublishIsRoutedAndRetained) {
  Fixture f;
  TestConn sub(f.broker, 0, ProtocolVersion::kV311);
  Connect(sub, "s");
  Subscribe(sub, "internal/#", 1);
  auto msg = std::make_shared<Message>();
  msg->topic = "internal/x";
  msg->payload = codec::SharedBytes(std::string("from broker"));
  msg->qos = 1;
  msg->retain = true;
  f.broker.Publish(msg);
  Settle(f.broker);
  EXPECT_THAT(Payloads(sub.Of<codec::Publish>()), ElementsAre("from broker"));
  EXPECT_EQ(f.broker.retained().size(), 1u);
}

// --- Packet ids of the outbound window [MQTT-2.2.1-3]

// The answer AllocatePacketId gave before its constant-time path: the first id from
// next_packet_id on (1..65535, wrapping) that no inflight message holds.
uint16_t FirstFreeFrom(uint16_t next, const std::set<uint16_t>& used) {
  if (next == 0) next = 1;
  for (int i = 0; i < 65535; ++i) {
    if (!used.count(next)) return next;
    next = next == 0xFFFF ? 1 : next + 1;
  }
  return 0;
}

std::set<uint16_t> IdsOf(const Session& s) {
  std::set<uint16_t> ids;
  for (size_t i = 0; i < s.inflight.size(); ++i) ids.insert(s.inflight[i].packet_id);
  return ids;
}

TEST(PacketIdTest, WrapsPastTheLastIdAndSkipsIdsStillInFlight) {
  boost::asio::io_context io;
  Session s("c", io);
  s.next_packet_id = 65534;
  for (uint16_t want : {65534, 65535, 1, 2}) {
    uint16_t id = s.AllocatePacketId();
    EXPECT_EQ(id, want);
    s.PushInflight(OutboundInflight{id, {}, false});
  }
  EXPECT_TRUE(s.inflight_in_id_order);
  // Ids 3..65533 taken as well: the ring is full but for nothing.
  for (int i = 3; i <= 65533; ++i) {
    uint16_t id = s.AllocatePacketId();
    ASSERT_EQ(id, i);
    s.PushInflight(OutboundInflight{id, {}, false});
  }
  EXPECT_EQ(s.AllocatePacketId(), 0) << "all 65535 ids are in flight";
  // Two freed in the middle of the window: the next ids are exactly those, oldest first.
  ASSERT_TRUE(s.RemoveInflight(40000));
  ASSERT_TRUE(s.RemoveInflight(7));
  uint16_t a = s.AllocatePacketId();
  s.PushInflight(OutboundInflight{a, {}, false});
  uint16_t b = s.AllocatePacketId();
  s.PushInflight(OutboundInflight{b, {}, false});
  EXPECT_EQ(a, 7);
  EXPECT_EQ(b, 40000);
  EXPECT_FALSE(s.inflight_in_id_order) << "7 went in behind 65533";
  EXPECT_EQ(IdsOf(s).size(), 65535u);
}

TEST(PacketIdTest, AnImportedWindowOutOfOrderIsNeverHandedAnIdItHolds) {
  boost::asio::io_context io;
  Session s("c", io);
  SessionState state;
  state.client_id = "c";
  for (uint16_t id : {5, 9, 6}) state.inflight.push_back(OutboundInflight{id, {}, false});
  state.next_packet_id = 6;  // e.g. restored as the largest id plus one of another order
  s.Import(std::move(state));
  EXPECT_FALSE(s.inflight_in_id_order);
  EXPECT_EQ(s.AllocatePacketId(), 7);
  s.PushInflight(OutboundInflight{7, {}, false});
  EXPECT_EQ(s.AllocatePacketId(), 8);
  s.PushInflight(OutboundInflight{8, {}, false});
  EXPECT_EQ(s.AllocatePacketId(), 10);  // 9 still in flight
  // Once the window drained, the order holds again.
  while (!s.inflight.empty()) s.RemoveInflight(s.inflight.front().packet_id);
  EXPECT_EQ(s.AllocatePacketId(), 11);
  EXPECT_TRUE(s.inflight_in_id_order);
}

TEST(PacketIdTest, AnImportedNextIdInsideAnOrderedWindowIsSkipped) {
  for (uint16_t next : {3, 4, 5}) {
    boost::asio::io_context io;
    Session s("c", io);
    SessionState state;
    state.client_id = "c";
    for (uint16_t id : {3, 4, 5}) state.inflight.push_back(OutboundInflight{id, {}, false});
    state.next_packet_id = next;
    s.Import(std::move(state));
    EXPECT_TRUE(s.inflight_in_id_order);
    EXPECT_EQ(s.AllocatePacketId(), 6) << "next_packet_id " << next;
  }
}

// Random sends, out-of-order acks, takeovers that reorder the window and restarts near the
// end of the id range, checked against the scan: the same id every time, never one in use.
TEST(PacketIdTest, MatchesAScanOfTheWindowUnderRandomTraffic) {
  boost::asio::io_context io;
  Session s("c", io);
  std::mt19937 rng(20261122);
  s.next_packet_id = 65000;
  size_t fast_order_seen = 0;
  for (int step = 0; step < 30000; ++step) {
    int op = static_cast<int>(rng() % 100);
    if (op < 55 && s.inflight.size() < 1000) {
      std::set<uint16_t> used = IdsOf(s);
      uint16_t want = FirstFreeFrom(s.next_packet_id, used);
      uint16_t id = s.AllocatePacketId();
      ASSERT_EQ(id, want) << "step " << step;
      ASSERT_FALSE(used.count(id));
      s.PushInflight(OutboundInflight{id, {}, false});
      fast_order_seen += s.inflight_in_id_order;
    } else if (op < 80 && !s.inflight.empty()) {
      ASSERT_TRUE(s.RemoveInflight(s.inflight.front().packet_id));  // acks in order
    } else if (op < 99 && !s.inflight.empty()) {
      size_t i = rng() % s.inflight.size();
      ASSERT_TRUE(s.RemoveInflight(s.inflight[i].packet_id));  // an ack out of order
    } else {
      SessionState state = s.Export();
      if (rng() % 2) std::shuffle(state.inflight.begin(), state.inflight.end(), rng);
      if (rng() % 2) state.next_packet_id = static_cast<uint16_t>(1 + rng() % 65535);
      s.Import(std::move(state));
    }
  }
  EXPECT_GT(fast_order_seen, 0u);
}

}  // namespace
}  // namespace meshmq::broker::testing
