// A persistent session moving to another node (src/broker/session_move.cc), with a fake cluster:
// the old owner's forwarding tombstone, and the new owner's targeted delivery and de-duplication.
#include <map>
#include <string>
#include <vector>

#include "broker/cluster_port.h"
#include "broker/session_codec.h"
#include "broker_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meshmq::broker::testing {
namespace {

using ::testing::ElementsAre;

// Inline mode: every call comes from the test thread.
class FakeCluster : public ClusterPort {
 public:
  struct Passed {
    std::string node;
    MessagePtr msg;
    SessionTarget target;
  };
  void AddLocalRoute(const std::string& f) override { added.push_back(f); }
  void RemoveLocalRoute(const std::string& f) override { removed.push_back(f); }
  void Forward(const std::string&, MessagePtr, bool, std::vector<std::string>,
               std::function<void(bool)> on_queued) override {
    ++forwards;
    if (on_queued) on_queued(true);
  }
  void ForwardToSession(const std::string& node, MessagePtr msg, SessionTarget target,
                        std::function<void(bool)> on_queued) override {
    passed.push_back({node, std::move(msg), std::move(target)});
    if (on_queued) on_queued(true);
  }
  void AwaitForwardBarrier(const std::string& node, std::function<void()> done) override {
    barrier_nodes.push_back(node);
    if (hold_barrier) {
      barriers.push_back(std::move(done));
    } else {
      done();
    }
  }
  void PublishRetained(MessagePtr) override {}
  void ClientConnected(const std::string&, int64_t) override {}
  void ClientDisconnected(const std::string&) override {}
  void ClaimClientId(const std::string& id,
                     std::function<void(std::optional<std::string>)> done) override {
    auto it = sessions.find(id);
    if (it == sessions.end()) return done(std::nullopt);
    done(it->second);
  }

  std::vector<std::string> added, removed;
  std::vector<Passed> passed;
  int forwards = 0;
  bool hold_barrier = false;  // keep AwaitForwardBarrier's callbacks in `barriers`
  std::vector<std::function<void()>> barriers;
  std::vector<std::string> barrier_nodes;
  std::map<std::string, std::string> sessions;  // what "another node" hands over on a claim
};

MessagePtr Msg(const std::string& topic, const std::string& payload, uint64_t origin_seq) {
  auto m = std::make_shared<Message>();
  m->topic = topic;
  m->payload = codec::SharedBytes(payload);
  m->qos = 1;
  m->origin_node = "nodeC";
  m->timestamp_ms = 1000;
  m->origin_seq = origin_seq;
  return m;
}

// Persistent session "dev" (subscribed to a/# at QoS 1) goes offline here, then node B takes it
// over: this broker keeps a forwarding tombstone. Returns the state handed to B.
std::optional<SessionState> MoveDevToNodeB(Broker& broker) {
  {
    TestConn sub(broker, 0, ProtocolVersion::kV311);
    Connect(sub, "dev", /*clean_start=*/false);
    Subscribe(sub, "a/#", 1);
    sub.Write(codec::Disconnect{});
  }
  std::optional<SessionState> state;
  broker.TakeOverSession("dev", "nodeB", [&](std::optional<SessionState> s) { state = s; });
  Settle(broker);
  return state;
}

TEST(SessionMoveTest, TombstonePassesLateMessagesOnUntilTheNewOwnersRoutesShow) {
  Broker broker(InlineOptions());
  FakeCluster cluster;
  broker.set_cluster(&cluster);
  TestConn pub(broker, 0, ProtocolVersion::kV311);
  Connect(pub, "pub");
  std::optional<SessionState> state = MoveDevToNodeB(broker);
  ASSERT_TRUE(state);
  ASSERT_EQ(state->subscriptions.size(), 1u);
  EXPECT_TRUE(cluster.removed.empty()) << "the route must stay while messages may still come";

  pub.Write(MakePublish("a/1", "late", 1, 1));
  ASSERT_EQ(cluster.passed.size(), 1u);
  EXPECT_EQ(cluster.passed[0].node, "nodeB");
  EXPECT_EQ(cluster.passed[0].target.client_id, "dev");
  EXPECT_EQ(cluster.passed[0].target.qos, 1);
  EXPECT_EQ(cluster.passed[0].msg->payload.str(), "late");
  EXPECT_NE(cluster.passed[0].msg->origin_seq, 0u);

  // The new owner announces the route: after the grace period the tombstone and our route go.
  broker.RemoteRoutesChanged("nodeB", {"a/#"}, {});
  RunFor(broker, std::chrono::milliseconds(100));
  EXPECT_TRUE(cluster.removed.empty()) << "ended before the grace period";
  RunFor(broker, std::chrono::milliseconds(500));
  EXPECT_THAT(cluster.removed, ElementsAre("a/#"));
  pub.Write(MakePublish("a/1", "after", 1, 2));
  EXPECT_EQ(cluster.passed.size(), 1u);  // now forwarded to nodeB's route like any message
  EXPECT_EQ(cluster.forwards, 1);
}

// A loaded peer can still deliver a message it routed with the old routes long after the new
// owner's routes showed here: the tombstone waits for the forward barrier, not only a timer.
TEST(SessionMoveTest, TombstoneWaitsForTheForwardBarrierBeyondTheGracePeriod) {
  Broker broker(InlineOptions());
  FakeCluster cluster;
  cluster.hold_barrier = true;
  broker.set_cluster(&cluster);
  TestConn pub(broker, 0, ProtocolVersion::kV311);
  Connect(pub, "pub");
  std::optional<SessionState> state = MoveDevToNodeB(broker);
  ASSERT_TRUE(state);
  EXPECT_TRUE(cluster.barrier_nodes.empty()) << "asked before the new owner's routes showed";

  broker.RemoteRoutesChanged("nodeB", {"a/#"}, {});
  RunFor(broker, std::chrono::milliseconds(600));  // twice the grace period
  EXPECT_THAT(cluster.barrier_nodes, ElementsAre("nodeB"));
  EXPECT_TRUE(cluster.removed.empty()) << "ended while the barrier was pending";
  pub.Write(MakePublish("a/1", "late", 1, 1));
  ASSERT_EQ(cluster.passed.size(), 1u) << "a late message must still be passed on";

  ASSERT_EQ(cluster.barriers.size(), 1u);
  cluster.barriers[0]();  // every peer's earlier forwards handled
  RunFor(broker, std::chrono::milliseconds(100));
  EXPECT_THAT(cluster.removed, ElementsAre("a/#"));
  pub.Write(MakePublish("a/1", "after", 1, 2));
  EXPECT_EQ(cluster.passed.size(), 1u);
  EXPECT_EQ(cluster.forwards, 2);  // "late" went both ways (the new owner drops one), "after" one
}

// The new owner's routes can vanish and come back while our tombstone waits (its own tombstone of
// an earlier move ends just before its new subscription is announced). A barrier that passed for
// the first routes says nothing about the second: peers may have routed to us alone in between.
TEST(SessionMoveTest, TombstoneAsksAgainWhenTheNewOwnersRoutesComeBack) {
  Broker broker(InlineOptions());
  FakeCluster cluster;
  cluster.hold_barrier = true;
  broker.set_cluster(&cluster);
  std::optional<SessionState> state = MoveDevToNodeB(broker);
  ASSERT_TRUE(state);
  broker.RemoteRoutesChanged("nodeB", {"a/#"}, {});
  RunFor(broker, std::chrono::milliseconds(100));
  ASSERT_EQ(cluster.barriers.size(), 1u);
  cluster.barriers[0]();
  broker.RemoteRoutesChanged("nodeB", {}, {"a/#"});
  RunFor(broker, std::chrono::milliseconds(100));
  broker.RemoteRoutesChanged("nodeB", {"a/#"}, {});
  RunFor(broker, std::chrono::milliseconds(600));  // past the grace period of either coverage
  EXPECT_EQ(cluster.barriers.size(), 2u) << "no new barrier for the routes that came back";
  EXPECT_TRUE(cluster.removed.empty()) << "ended on the barrier of the routes that went away";
  ASSERT_EQ(cluster.barriers.size(), 2u);
  cluster.barriers[1]();
  RunFor(broker, std::chrono::milliseconds(100));
  EXPECT_THAT(cluster.removed, ElementsAre("a/#"));
}

// A session moved here from node A and on to node B at once; A's tombstone still passes a
// message here (a peer routed to A alone). Our own tombstone must pass it on to B: the registry no
// longer knows the id here, which used to drop it.
TEST(SessionMoveTest, MessagePassedOnToAnIdThatMovedOnGoesThroughItsTombstone) {
  Broker broker(InlineOptions(2));
  FakeCluster cluster;
  cluster.hold_barrier = true;
  broker.set_cluster(&cluster);
  ASSERT_TRUE(MoveDevToNodeB(broker));
  bool done = false;
  broker.DeliverToSession(Msg("a/1", "via-A", 7), SessionTarget{"dev", 1, false, {}},
                          [&] { done = true; });
  Settle(broker);
  EXPECT_TRUE(done);
  ASSERT_EQ(cluster.passed.size(), 1u) << "dropped instead of passed on";
  EXPECT_EQ(cluster.passed[0].node, "nodeB");
  EXPECT_EQ(cluster.passed[0].msg->payload.str(), "via-A");

  // An id with neither session nor tombstone here is dropped, and done() still runs once.
  int unknown_done = 0;
  broker.DeliverToSession(Msg("a/1", "nobody", 8), SessionTarget{"ghost", 1, false, {}},
                          [&] { ++unknown_done; });
  Settle(broker);
  EXPECT_EQ(unknown_done, 1);
  EXPECT_EQ(cluster.passed.size(), 1u);
}

TEST(SessionMoveTest, MovedInSessionGetsEachMessageOnceWhicheverWayItCame) {
  Broker broker(InlineOptions());
  FakeCluster cluster;
  broker.set_cluster(&cluster);
  SessionState moved;
  moved.client_id = "dev";
  moved.expiry_interval_s = 300;
  StoredSubscription sub;
  sub.request.filter = "m/#";
  sub.request.qos = 1;
  moved.subscriptions.push_back(sub);
  cluster.sessions["dev"] = EncodeSessionState(moved);

  TestConn dev(broker, 0, ProtocolVersion::kV311);
  auto ack = Connect(dev, "dev", /*clean_start=*/false);
  ASSERT_TRUE(ack);
  EXPECT_TRUE(ack->session_present);

  MessagePtr both = Msg("m/1", "both-ways", 77);
  broker.DeliverForwarded(both, true, {}, nullptr);                       // directly
  broker.DeliverToSession(both, {"dev", 1, false, {}}, nullptr);          // and passed on
  broker.DeliverToSession(Msg("m/1", "passed-first", 78), {"dev", 1, false, {}}, nullptr);
  broker.DeliverForwarded(Msg("m/1", "passed-first", 78), true, {}, nullptr);
  broker.DeliverToSession(Msg("m/2", "only-passed-on", 79), {"dev", 1, false, {}}, nullptr);
  // Directly and passed on by two tombstones (the session moved back and forth): once.
  MessagePtr three = Msg("m/1", "three-ways", 81);
  broker.DeliverForwarded(three, true, {}, nullptr);
  broker.DeliverToSession(three, {"dev", 1, false, {}}, nullptr);
  broker.DeliverToSession(three, {"dev", 1, false, {}}, nullptr);
  MessagePtr twice = Msg("m/1", "passed-twice", 82);
  broker.DeliverToSession(twice, {"dev", 1, false, {}}, nullptr);
  broker.DeliverToSession(twice, {"dev", 1, false, {}}, nullptr);
  Settle(broker);
  EXPECT_THAT(Payloads(dev.Of<codec::Publish>()),
              ElementsAre("both-ways", "passed-first", "only-passed-on", "three-ways",
                          "passed-twice"));

  // A client that resumed with clean start has a new session: what its old node passes on was
  // asked for by the old subscriptions, not by this session.
  TestConn fresh(broker, 0, ProtocolVersion::kV311);
  Connect(fresh, "fresh", /*clean_start=*/true);
  Subscribe(fresh, "m/#", 1);
  broker.DeliverToSession(Msg("m/3", "stale", 80), {"fresh", 1, false, {}}, nullptr);
  Settle(broker);
  EXPECT_TRUE(fresh.Of<codec::Publish>().empty());
}

}  // namespace
}  // namespace meshmq::broker::testing
