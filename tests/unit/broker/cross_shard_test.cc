// Paths between shards: routing a publish to a subscriber on another shard, shared groups with
// members on several shards, and a session taken over by a connection on another shard. Most tests
// run the broker's threads (Start()); one drives three shards inline for a deterministic check.
#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "broker/receive_time.h"
#include "broker_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meshmq::broker::testing {
namespace {

using ::testing::ElementsAre;

// Waits until every task already posted to any shard (route announcements) has run.
void Barrier(Broker& broker) {
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < broker.shard_count(); ++i) RunOn(broker, i, [] {});
  }
}

// A two-shard broker polled inline: a subscriber on shard 1, a publisher on shard 0.
struct TwoShards {
  // Connects both, each shard settled on its own (no task posted to the other one has run).
  bool ConnectBoth() {
    if (!Connect(sub, "sub") || !Connect(pub, "pub")) return false;
    sub.SettleOwnShardOnly();
    pub.SettleOwnShardOnly();
    return true;
  }
  Broker broker{InlineOptions(2)};
  TestConn sub{broker, 1, ProtocolVersion::kV5};
  TestConn pub{broker, 0, ProtocolVersion::kV5};
};

// A topic `prefix`N that a forwarded batch sends to shard 0 of two by its hash.
std::string TopicOnShardZero(const std::string& prefix) {
  for (int i = 0;; ++i) {
    std::string candidate = prefix + std::to_string(i);
    if (std::hash<std::string>{}(candidate) % 2 == 0) return candidate;
  }
}

class ThreadedTest : public ::testing::Test {
 protected:
  ThreadedTest() : broker_(InlineOptions(3)) { broker_.Start(); }
  std::unique_ptr<TestConn> Conn(int shard, ProtocolVersion v = ProtocolVersion::kV5) {
    return std::make_unique<TestConn>(broker_, shard, v, /*threaded=*/true);
  }
  Broker broker_;
};

TEST_F(ThreadedTest, PublishReachesSubscriberOnAnotherShard) {
  auto sub = Conn(0);
  ASSERT_TRUE(Connect(*sub, "sub"));
  Subscribe(*sub, "a/+", 1);
  Barrier(broker_);
  auto pub = Conn(1);
  ASSERT_TRUE(Connect(*pub, "pub"));
  pub->Write(MakePublish("a/b", "hello", 1, 1));
  EXPECT_EQ(pub->Of<codec::Puback>().at(0).reason_code, ReasonCode::kSuccess);
  ASSERT_TRUE(sub->WaitFor([&] { return sub->Of<codec::Publish>().size() == 1; }));
  auto got = sub->Of<codec::Publish>();
  EXPECT_EQ(got[0].topic, "a/b");
  EXPECT_EQ(got[0].payload.str(), "hello");
  EXPECT_EQ(got[0].qos, 1);
}

TEST_F(ThreadedTest, SubscribersOnEveryShardEachGetOneCopy) {
  std::vector<std::unique_ptr<TestConn>> subs;
  for (int i = 0; i < 3; ++i) {
    subs.push_back(Conn(i));
    Connect(*subs.back(), "s" + std::to_string(i));
    Subscribe(*subs.back(), "#", 0);
  }
  Barrier(broker_);
  auto pub = Conn(2);
  Connect(*pub, "pub");
  for (int k = 0; k < 5; ++k) pub->Write(MakePublish("t", std::to_string(k), 0));
  for (auto& s : subs) {
    ASSERT_TRUE(s->WaitFor([&] { return s->Of<codec::Publish>().size() >= 5; }));
    EXPECT_THAT(Payloads(s->Of<codec::Publish>()), ElementsAre("0", "1", "2", "3", "4"));
  }
}

TEST_F(ThreadedTest, SharedGroupAcrossShardsRoundRobinsEvenly) {
  std::vector<std::unique_ptr<TestConn>> members;
  for (int i = 0; i < 3; ++i) {
    members.push_back(Conn(i));
    Connect(*members.back(), "m" + std::to_string(i));
    Subscribe(*members.back(), "$share/g/work", 1);
  }
  Barrier(broker_);
  auto pub = Conn(1);
  Connect(*pub, "pub");
  for (int k = 0; k < 30; ++k) pub->Write(MakePublish("work", std::to_string(k), 0));
  auto total = [&] {
    size_t n = 0;
    for (auto& m : members) n += m->Of<codec::Publish>().size();
    return n;
  };
  ASSERT_TRUE(pub->WaitFor([&] { return total() >= 30; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // no extra copies arrive
  EXPECT_EQ(total(), 30u);
  for (auto& m : members) EXPECT_EQ(m->Of<codec::Publish>().size(), 10u);
}

codec::Connect Persistent(const std::string& id) {
  codec::Connect c = MakeConnect(ProtocolVersion::kV5, id, /*clean_start=*/false);
  c.properties.session_expiry_interval = 60;
  return c;
}

TEST_F(ThreadedTest, TakeoverFromAnotherShardMovesOnlineSession) {
  auto old_conn = Conn(0);
  Connect(*old_conn, Persistent("c"));
  Subscribe(*old_conn, "t", 1);
  Barrier(broker_);
  auto fresh = Conn(2);
  fresh->Write(Persistent("c"));
  ASSERT_TRUE(fresh->WaitFor([&] { return !fresh->Of<codec::Connack>().empty(); }));
  EXPECT_TRUE(fresh->Of<codec::Connack>()[0].session_present);
  EXPECT_TRUE(old_conn->closed());
  auto d = old_conn->Of<codec::Disconnect>();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].reason_code, ReasonCode::kSessionTakenOver);
  EXPECT_EQ(broker_.registry().ShardOf("c"), 2);
  Barrier(broker_);
  auto pub = Conn(1);
  Connect(*pub, "pub");
  pub->Write(MakePublish("t", "after", 1, 1));
  ASSERT_TRUE(fresh->WaitFor([&] { return fresh->Of<codec::Publish>().size() == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_THAT(Payloads(fresh->Of<codec::Publish>()), ElementsAre("after"));  // exactly once
  EXPECT_TRUE(old_conn->Of<codec::Publish>().empty());
}

TEST_F(ThreadedTest, TakeoverFromAnotherShardMovesQueuedMessages) {
  {
    auto old_conn = Conn(0);
    Connect(*old_conn, Persistent("c"));
    Subscribe(*old_conn, "t", 1);
    old_conn->Write(codec::Disconnect{});
  }
  Barrier(broker_);
  auto pub = Conn(1);
  Connect(*pub, "pub");
  pub->Write(MakePublish("t", "q1", 1, 1));
  pub->Write(MakePublish("t", "q2", 2, 2));
  Barrier(broker_);
  auto fresh = Conn(2);
  fresh->Write(Persistent("c"));
  ASSERT_TRUE(fresh->WaitFor([&] { return fresh->Of<codec::Publish>().size() >= 2; }));
  EXPECT_TRUE(fresh->Of<codec::Connack>().at(0).session_present);
  EXPECT_EQ(fresh->Types(), "CONNACK,PUBLISH,PUBLISH");
  EXPECT_THAT(Payloads(fresh->Of<codec::Publish>()), ElementsAre("q1", "q2"));
  // The old shard no longer holds the session.
  bool old_has = true;
  RunOn(broker_, 0, [&] { old_has = broker_.shard(0).FindSession("c") != nullptr; });
  EXPECT_FALSE(old_has);
}

TEST(CrossShardInlineTest, ThreeShardsPolledInlineRouteDeterministically) {
  Broker broker(InlineOptions(3));
  TestConn sub(broker, 2, ProtocolVersion::kV311);
  Connect(sub, "s");
  Subscribe(sub, "x/#", 2);
  TestConn pub(broker, 0, ProtocolVersion::kV311);
  Connect(pub, "p");
  pub.Write(MakePublish("x/y", "1", 2, 1));
  pub.Write(MakeAck<codec::Pubrel>(1));
  auto got = sub.Of<codec::Publish>();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].qos, 2);
  // Cross-shard takeover, inline: the session and its subscription move to shard 1.
  TestConn again(broker, 1, ProtocolVersion::kV311);
  auto ack = Connect(again, "s", /*clean_start=*/false);
  ASSERT_TRUE(ack);
  EXPECT_TRUE(sub.closed());
  EXPECT_FALSE(ack->session_present);  // the old one was a clean session
  EXPECT_EQ(broker.Stats().sessions, 2);
}

// A batch forwarded by another node: each part's shard hands what the subscriber's shard must
// deliver over in one task for the whole part, not one task per message, and every topic keeps
// its order.
TEST(CrossShardInlineTest, ForwardedBatchIsHandedToTheSubscribersShardInOneTaskPerPart) {
  Broker broker(InlineOptions(2));
  TestConn sub(broker, 1, ProtocolVersion::kV5);
  ASSERT_TRUE(Connect(sub, "sub"));
  Subscribe(sub, "f/#", 0);
  Settle(broker);
  // Topics of both parts: some hash to shard 0, some to shard 1.
  std::vector<std::string> topics;
  int on_zero = 0;
  for (int t = 0; t < 8; ++t) {
    topics.push_back("f/" + std::to_string(t));
    on_zero += std::hash<std::string>{}(topics.back()) % 2 == 0;
  }
  ASSERT_GT(on_zero, 0);
  ASSERT_LT(on_zero, 8);
  ForwardedBatch batch;
  for (int i = 0; i < 40; ++i) {
    auto m = std::make_shared<Message>();
    m->topic = topics[i % topics.size()];
    m->payload = codec::SharedBytes(std::to_string(i));
    m->origin_node = "nodeB";
    batch.items.push_back({m, true, {}});
  }
  bool done = false;
  broker.DeliverForwardedBatch(std::move(batch), [&] { done = true; });
  EXPECT_EQ(broker.io(0).poll(), 1u);  // shard 0's part, which hands over to shard 1
  // Shard 1: its own part and one hand-off for shard 0's 5 * on_zero messages (was one each).
  EXPECT_EQ(broker.io(1).poll(), 2u);
  Settle(broker);
  EXPECT_TRUE(done);
  std::map<std::string, std::vector<int>> per_topic;
  auto got = sub.Of<codec::Publish>();
  ASSERT_EQ(got.size(), 40u);
  for (const auto& p : got) per_topic[p.topic].push_back(std::stoi(p.payload.str()));
  for (const auto& [topic, seq] : per_topic) {
    EXPECT_TRUE(std::is_sorted(seq.begin(), seq.end())) << topic;
    EXPECT_EQ(seq.size(), 5u) << topic;
  }
}

// A peer's forwarded messages of a topic whose only subscriber sits on another shard than the
// topic's hash picks: the first part is routed there and handed over, after which the topic goes
// to the subscriber's shard first (no second routing, no hand-off task), and the order per topic
// holds across the switch (forward_placement.h).
TEST(CrossShardInlineTest, ForwardedTopicMovesToItsSubscribersShardWithoutReordering) {
  Broker broker(InlineOptions(2));
  TestConn sub(broker, 1, ProtocolVersion::kV5);
  ASSERT_TRUE(Connect(sub, "sub"));
  const std::string topic = TopicOnShardZero("p/");  // forwarded by hash to shard 0
  Subscribe(sub, topic, 0);
  Settle(broker);
  auto placement = std::make_shared<ForwardPlacement>();
  int next = 0;
  auto batch_of = [&](int count) {
    ForwardedBatch batch;
    batch.placement = placement;
    for (int i = 0; i < count; ++i) {
      auto m = std::make_shared<Message>();
      m->topic = topic;
      m->payload = codec::SharedBytes(std::to_string(next++));
      m->origin_node = "nodeB";
      batch.items.push_back({m, true, {}});
    }
    return batch;
  };
  broker.DeliverForwardedBatch(batch_of(5), [] {});
  // A second part is posted by hash while the first is outstanding: it must not be overtaken.
  broker.DeliverForwardedBatch(batch_of(5), [] {});
  EXPECT_EQ(placement->outstanding(), 2u);
  EXPECT_EQ(broker.io(0).poll(), 2u);  // both parts routed on shard 0, each handed over
  EXPECT_EQ(placement->outstanding(), 0u);
  // The proposal takes effect with the next batch: straight to shard 1, nothing for shard 0.
  broker.DeliverForwardedBatch(batch_of(5), [] {});
  EXPECT_EQ(broker.io(0).poll(), 0u);
  EXPECT_EQ(broker.io(1).poll(), 3u);  // two hand-offs, then the third part, in that order
  Settle(broker);
  std::vector<int> seq;
  for (const auto& p : sub.Of<codec::Publish>()) seq.push_back(std::stoi(p.payload.str()));
  ASSERT_EQ(seq.size(), 15u);
  EXPECT_TRUE(std::is_sorted(seq.begin(), seq.end()));
}

// Messages a shard builds itself from the batch (UnbuiltMessages) are delivered like built ones.
TEST(CrossShardInlineTest, UnbuiltForwardedMessagesAreBuiltByTheRoutingShard) {
  struct Source : UnbuiltMessages {
    std::string_view topic(uint32_t) const override { return "u/t"; }
    MessagePtr Build(uint32_t index) const override {
      auto m = std::make_shared<Message>();
      m->topic = "u/t";
      m->payload = codec::SharedBytes("built " + std::to_string(index));
      m->origin_node = "nodeB";
      return m;
    }
  };
  Broker broker(InlineOptions(2));
  TestConn sub(broker, 1, ProtocolVersion::kV5);
  ASSERT_TRUE(Connect(sub, "sub"));
  Subscribe(sub, "u/#", 0);
  Settle(broker);
  ForwardedBatch batch;
  batch.unbuilt = std::make_shared<Source>();
  for (uint32_t i = 0; i < 3; ++i) batch.items.push_back({nullptr, true, {}, i});
  bool done = false;
  broker.DeliverForwardedBatch(std::move(batch), [&] { done = true; });
  Settle(broker);
  EXPECT_TRUE(done);
  std::vector<std::string> got;
  for (const auto& p : sub.Of<codec::Publish>()) got.push_back(p.payload.str());
  EXPECT_THAT(got, ElementsAre("built 0", "built 1", "built 2"));
}

// A subscription is in every shard's routes before its SUBACK is sent: a publish that another
// shard handles after the SUBACK reaches the new subscriber even when that shard has not yet run
// the tasks posted to it (it was busy). The shards are polled one at a time to hold those tasks.
// Both kinds of route: a wildcard filter (other shards' trie) and an exact one (their
// ExactRoutes index).
TEST(CrossShardInlineTest, PublishAfterSubackReachesSubscriberBeforeTheOtherShardRanItsTasks) {
  for (const char* filter : {"late/+", "late/x"}) {
    SCOPED_TRACE(filter);
    TwoShards t;
    ASSERT_TRUE(t.ConnectBoth());
    Broker& broker = t.broker;
    TestConn& sub = t.sub;
    TestConn& pub = t.pub;
    Subscribe(sub, filter, 1);
    ASSERT_EQ(sub.Of<codec::Suback>().size(), 1u);
    // Shard 0 handles the PUBLISH before any task posted to it since the SUBSCRIBE.
    pub.Write(MakePublish("late/x", "after suback", 1, 7));
    ASSERT_EQ(pub.Of<codec::Puback>().size(), 1u);
    Settle(broker);  // now the delivery posted to shard 1 runs
    auto got = sub.Of<codec::Publish>();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].payload.str(), "after suback");
  }
}

// The publishes of one read that go to another shard leave as one task (one lock of that
// shard's queue, at most one wake-up of its thread), not one per message, and keep their order.
TEST(CrossShardInlineTest, PublishesOfOneReadReachAnotherShardAsOneTask) {
  TwoShards t;
  ASSERT_TRUE(t.ConnectBoth());
  Subscribe(t.sub, "batch/+", 0);
  Settle(t.broker);
  std::string bytes;
  for (const char* payload : {"m1", "m2", "m3"}) {
    codec::Encode(MakePublish("batch/x", payload, 0), t.pub.version(), bytes);
  }
  t.pub.WriteBytes(bytes);  // one read; only shard 0 runs
  EXPECT_EQ(t.broker.io(1).poll(), 1u);
  Settle(t.broker);
  std::vector<std::string> got;
  for (const auto& p : t.sub.Of<codec::Publish>()) got.push_back(p.payload.str());
  EXPECT_THAT(got, ElementsAre("m1", "m2", "m3"));

  // Two reads: two tasks (a read's batch is posted when the read has been handled).
  t.pub.Write(MakePublish("batch/x", "m4", 0));
  t.pub.Write(MakePublish("batch/x", "m5", 0));
  EXPECT_EQ(t.broker.io(1).poll(), 2u);
}

// The reactor keeps a HandoffBatch open for a whole turn (several connections' reads). A session
// taken over from another shard during that turn gets what this shard routed to it earlier in
// the turn: the takeover task must not overtake hand-offs still being collected.
TEST(CrossShardInlineTest, TakeoverDoesNotOvertakeHandOffsOfTheSameTurn) {
  Broker broker(InlineOptions(2));
  TestConn old_conn(broker, 1, ProtocolVersion::kV5);
  ASSERT_TRUE(Connect(old_conn, Persistent("c")));
  Subscribe(old_conn, "tk", 1);
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  ASSERT_TRUE(Connect(pub, "pub"));
  TestConn fresh(broker, 0, ProtocolVersion::kV5);
  Settle(broker);
  {
    Shard::HandoffBatch turn(broker.shard(0));
    pub.Write(MakePublish("tk", "m", 1, 1));
    fresh.Write(Persistent("c"));
  }
  Settle(broker);
  EXPECT_TRUE(fresh.Of<codec::Connack>().at(0).session_present);
  EXPECT_THAT(Payloads(fresh.Of<codec::Publish>()), ElementsAre("m"));
}

void Unsubscribe(TestConn& conn, const std::string& filter) {
  codec::Unsubscribe u;
  u.packet_id = 9;
  u.filters = {filter};
  conn.Write(u);
}

// Exact filters of other shards live in a hash index, wildcards in a trie: both must follow
// subscribe and unsubscribe, and a session matched through both gets one copy.
TEST(CrossShardInlineTest, ExactAndWildcardRoutesOfOtherShardsFollowSubscriptions) {
  Broker broker(InlineOptions(3));
  TestConn both(broker, 1, ProtocolVersion::kV5);
  TestConn exact(broker, 2, ProtocolVersion::kV5);
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  ASSERT_TRUE(Connect(both, "both"));
  ASSERT_TRUE(Connect(exact, "exact"));
  ASSERT_TRUE(Connect(pub, "pub"));
  Subscribe(both, "e/x", 1);
  Subscribe(both, "e/+", 0);
  Subscribe(exact, "e/x", 0);
  auto publish = [&](const std::string& topic, const std::string& payload) {
    pub.Write(MakePublish(topic, payload, 1, 1));
    Settle(broker);
  };
  publish("e/x", "1");
  publish("e/y", "2");
  publish("e/x/z", "3");  // matches neither
  auto got = both.Of<codec::Publish>();
  EXPECT_THAT(Payloads(got), ElementsAre("1", "2"));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].qos, 1);  // one copy, the higher QoS of the two overlapping subscriptions
  EXPECT_THAT(Payloads(exact.Of<codec::Publish>()), ElementsAre("1"));

  Unsubscribe(exact, "e/x");
  Unsubscribe(both, "e/x");
  Settle(broker);
  publish("e/x", "4");
  EXPECT_THAT(Payloads(exact.Of<codec::Publish>()), ElementsAre("1"));
  got = both.Of<codec::Publish>();
  EXPECT_THAT(Payloads(got), ElementsAre("1", "2", "4"));  // still through "e/+"
  EXPECT_EQ(got.back().qos, 0);

  Subscribe(exact, "e/x", 0);  // back again
  Unsubscribe(both, "e/+");
  Settle(broker);
  publish("e/x", "5");
  publish("e/y", "6");
  EXPECT_THAT(Payloads(exact.Of<codec::Publish>()), ElementsAre("1", "5"));
  EXPECT_THAT(Payloads(both.Of<codec::Publish>()), ElementsAre("1", "2", "4"));
}

// The other half of the route inbox: a retained message that a SUBSCRIBE just sent may also
// reach the session live (its publisher's shard stored it, then saw the new route). The shard
// remembers what it sent as retained and skips that message's live copy, but only that one.
TEST(CrossShardInlineTest, LiveCopyOfARetainedMessageJustSentOnSubscribeIsSkipped) {
  Broker broker(InlineOptions(2));
  TestConn sub(broker, 1, ProtocolVersion::kV5);
  ASSERT_TRUE(Connect(sub, "sub"));
  Subscribe(sub, "r/t", 1);
  auto make = [](std::string payload) {
    auto m = std::make_shared<Message>();
    m->topic = "r/t";
    m->payload = codec::SharedBytes(std::move(payload));
    m->qos = 1;
    m->retain = true;
    return m;
  };
  MessagePtr sent_retained = make("sent as retained");
  MessagePtr other = make("another one");
  sub.WithClient([&](Client* c) {
    ASSERT_NE(c, nullptr);
    broker.shard(1).NoteRetainedSent(*c->session(), sent_retained);
    RouteScope local;
    local.include_remote = false;
    local.include_shards = false;
    broker.shard(1).Route(sent_retained, local);  // its live copy: skipped
    broker.shard(1).Route(other, local);          // delivered
  });
  EXPECT_THAT(Payloads(sub.Of<codec::Publish>()), ElementsAre("another one"));
}

// Late routes (late_routes.cc): the host received the SUBSCRIBE before a PUBLISH, but the
// subscriber's shard handles it only after the publisher's shard routed that PUBLISH (its thread
// had not run yet). The message still reaches the new subscriber; one received before the
// SUBSCRIBE does not. Receive stamps are set the way the TCP transport sets them per read.
TEST(CrossShardInlineTest, PublishReceivedAfterASubscribeItsShardHandledLateStillReachesIt) {
  TwoShards t;
  ASSERT_TRUE(t.ConnectBoth());
  Broker& broker = t.broker;
  TestConn& sub = t.sub;
  TestConn& pub = t.pub;
  const int64_t subscribed_at = ReceiveTime::Now();
  {
    ReceiveTime::Scope received(subscribed_at - 1000);
    pub.Write(MakePublish("race/x", "before the subscribe", 1, 6));
  }
  {
    ReceiveTime::Scope received(subscribed_at + 1000);
    pub.Write(MakePublish("race/x", "after the subscribe", 1, 7));
  }
  ASSERT_EQ(pub.Of<codec::Puback>().size(), 2u);
  ASSERT_TRUE(sub.Of<codec::Publish>().empty());
  {
    ReceiveTime::Scope received(subscribed_at);
    Subscribe(sub, "race/+", 1);
  }
  Settle(broker);  // shard 0 applies the route and sends shard 1 what came after it
  EXPECT_THAT(Payloads(sub.Of<codec::Publish>()), ElementsAre("after the subscribe"));
  // Routed normally from now on, once.
  pub.Write(MakePublish("race/y", "later", 1, 8));
  Settle(broker);
  EXPECT_THAT(Payloads(sub.Of<codec::Publish>()), ElementsAre("after the subscribe", "later"));
}

// Late routes order what this host received; a message forwarded by another node is not kept
// for them (its sender forwarded it because our route had reached it already).
TEST(CrossShardInlineTest, ForwardedMessageIsNotReplayedToALateRoute) {
  TwoShards t;
  ASSERT_TRUE(t.ConnectBoth());
  Broker& broker = t.broker;
  TestConn& sub = t.sub;
  const std::string topic = TopicOnShardZero("race/");  // routed away from the subscriber
  const int64_t subscribed_at = ReceiveTime::Now();
  ForwardedBatch batch;
  auto m = std::make_shared<Message>();
  m->topic = topic;
  m->payload = codec::SharedBytes(std::string("forwarded"));
  m->origin_node = "nodeB";
  batch.items.push_back({m, true, {}});
  broker.DeliverForwardedBatch(std::move(batch), [] {});
  EXPECT_EQ(broker.io(0).poll(), 1u);  // routed on shard 0 after the subscribe's stamp
  {
    ReceiveTime::Scope received(subscribed_at);
    Subscribe(sub, "race/+", 1);
  }
  Settle(broker);
  EXPECT_TRUE(sub.Of<codec::Publish>().empty());
}

// A message that did reach the subscriber's shard (through another of its filters) is not sent
// there again for the new filter: one copy.
TEST(CrossShardInlineTest, LateRouteSendsNothingTheSubscribersShardAlreadyHad) {
  TwoShards t;
  ASSERT_TRUE(t.ConnectBoth());
  Broker& broker = t.broker;
  TestConn& sub = t.sub;
  TestConn& pub = t.pub;
  Subscribe(sub, "race/#", 1);
  Settle(broker);
  const int64_t subscribed_at = ReceiveTime::Now();
  {
    ReceiveTime::Scope received(subscribed_at + 1000);
    pub.Write(MakePublish("race/x", "once", 1, 7));
  }
  {
    ReceiveTime::Scope received(subscribed_at);
    Subscribe(sub, "race/x", 1);
  }
  Settle(broker);
  EXPECT_THAT(Payloads(sub.Of<codec::Publish>()), ElementsAre("once"));
}

}  // namespace
}  // namespace meshmq::broker::testing
