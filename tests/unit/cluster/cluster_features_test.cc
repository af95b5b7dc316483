// ClusterNode over real gRPC on loopback: authentication, readiness, retained replication, the
// client-id registry with takeover, and healing after a (simulated) partition.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <future>

#include "test_cluster.h"

namespace meshmq::cluster::testing {
namespace {

bool AliveMember(ClusterNode& node, const std::string& id) {
  for (auto& m : node.Members()) {
    if (m.node_id == id && m.state == "alive") return true;
  }
  return false;
}

TEST(ClusterAuthTest, WrongSecretIsRefused) {
  ClusterFixture good(1);
  good.Start(0);
  ClusterFixture bad(1, "not-the-secret");
  TestNode& intruder = bad[0];
  ClusterOptions o = bad.Options(intruder);
  o.node_id = "intruder";
  intruder.node = std::make_unique<ClusterNode>(
      o, intruder.local,
      std::make_unique<FakePeers>(discovery::PeerSet{{"127.0.0.1", good[0].port}}));
  ASSERT_TRUE(intruder.node->Start().ok());
  ASSERT_GE(WaitFor([&] { return good[0].node->Stats().auth_failures >= 1; }), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(good[0].node->Members().empty());
  EXPECT_TRUE(intruder.node->Members().empty());
}

TEST(ClusterAuthTest, WrongClusterNameIsRefused) {
  ClusterFixture good(1);
  good.Start(0);
  ClusterFixture other(1);
  other.cluster_name = "another-cluster";
  TestNode& stranger = other[0];
  ClusterOptions o = other.Options(stranger);
  o.node_id = "stranger";
  stranger.node = std::make_unique<ClusterNode>(
      o, stranger.local,
      std::make_unique<FakePeers>(discovery::PeerSet{{"127.0.0.1", good[0].port}}));
  ASSERT_TRUE(stranger.node->Start().ok());
  ASSERT_GE(WaitFor([&] { return good[0].node->Stats().auth_failures >= 1; }), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(good[0].node->Members().empty());
  EXPECT_TRUE(stranger.node->Members().empty());
}

TEST(ClusterReadyTest, ReadyAfterDiscoveryAndFirstRouteSync) {
  ClusterFixture c(2);
  // Before Start nothing is ready.
  c[0].node = std::make_unique<ClusterNode>(c.Options(c[0]), c[0].local,
                                            std::make_unique<FakePeers>(c.AllAddresses()));
  EXPECT_FALSE(c[0].node->Ready());
  c[0].node->AddLocalRoute("from/a");
  ASSERT_TRUE(c[0].node->Start().ok());
  c.Start(1);
  // B's readiness implies it already holds A's routes (first full sync done).
  ASSERT_GE(WaitFor([&] { return c[1].node->Ready(); }), 0);
  EXPECT_TRUE(c[1].local.HasRoute("A", "from/a"));
  ASSERT_GE(WaitFor([&] { return c[0].node->Ready(); }), 0);
}

TEST(ClusterReadyTest, UnansweredAddressesDoNotBlockReadiness) {
  ClusterFixture c(1);
  TestNode& t = c[0];
  uint16_t dead_port = FreePort();  // nobody listens here (a pod that is not up yet)
  t.node = std::make_unique<ClusterNode>(
      c.Options(t), t.local,
      std::make_unique<FakePeers>(
          discovery::PeerSet{{"127.0.0.1", t.port}, {"127.0.0.1", dead_port}}));
  ASSERT_TRUE(t.node->Start().ok());
  int64_t ms = WaitFor([&] { return t.node->Ready(); });
  ASSERT_GE(ms, 0);
  std::printf("[timing] single node with one dead peer address ready after %lld ms\n",
              static_cast<long long>(ms));
  EXPECT_TRUE(t.node->Members().empty());  // neither itself nor the dead address
}

TEST(ClusterRetainedTest, ReplicatedLastWriterWinsAndSyncedOnJoin) {
  ClusterFixture c(3);
  c.Start(0);
  c.Start(1);
  ASSERT_GE(WaitFor([&] { return AliveMember(*c[0].node, "B") && AliveMember(*c[1].node, "A"); }), 0);
  auto retained_payload = [&](int i, const std::string& topic) -> std::string {
    std::lock_guard<std::mutex> l(c[i].local.mu);
    auto it = c[i].local.retained.find(topic);
    return it == c[i].local.retained.end() ? "<none>" : it->second->payload.str();
  };
  auto set_local = [&](int i, broker::MessagePtr m) {  // the broker stores it, then publishes
    {
      std::lock_guard<std::mutex> l(c[i].local.mu);
      c[i].local.retained[m->topic] = m;
    }
    c[i].node->PublishRetained(m);
  };
  set_local(0, MakeMsg("r/1", "v100", 1, "A", 100));
  ASSERT_GE(WaitFor([&] { return retained_payload(1, "r/1") == "v100"; }), 0);
  set_local(1, MakeMsg("r/1", "v50", 1, "B", 50));  // older: A keeps v100
  set_local(1, MakeMsg("r/2", "only-b", 0, "B", 60));
  ASSERT_GE(WaitFor([&] { return retained_payload(0, "r/2") == "only-b"; }), 0);
  EXPECT_EQ(retained_payload(0, "r/1"), "v100");
  set_local(0, MakeMsg("r/3", "a-ts10", 0, "A", 10));
  set_local(1, MakeMsg("r/3", "b-ts10", 0, "B", 10));  // same timestamp: node id B > A wins
  ASSERT_GE(WaitFor([&] { return retained_payload(0, "r/3") == "b-ts10"; }), 0);
  EXPECT_EQ(retained_payload(1, "r/3"), "b-ts10");
  // A late joiner gets the full retained set; the older local copies (r/1 v50 on B) lose.
  c.Start(2);
  ASSERT_GE(WaitFor([&] {
    return retained_payload(2, "r/1") == "v100" && retained_payload(2, "r/2") == "only-b" &&
           retained_payload(2, "r/3") == "b-ts10";
  }), 0);
  // A delete (empty payload) replicates too.
  c[0].node->PublishRetained(MakeMsg("r/2", "", 0, "A", 200));
  ASSERT_GE(WaitFor([&] {
    return retained_payload(1, "r/2") == "<none>" && retained_payload(2, "r/2") == "<none>";
  }), 0);
}

std::optional<std::string> Claim(ClusterNode& node, const std::string& id, int64_t* ms) {
  std::promise<std::optional<std::string>> p;
  int64_t t0 = NowMs();
  node.ClaimClientId(id, [&p](std::optional<std::string> s) { p.set_value(std::move(s)); });
  auto f = p.get_future();
  if (f.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    ADD_FAILURE() << "claim never completed";
    return std::nullopt;
  }
  *ms = NowMs() - t0;
  return f.get();
}

TEST(ClusterClientRegistryTest, ClaimFindsOwnerAndTakesSessionOver) {
  ClusterFixture c(3);
  c.StartAll();
  ASSERT_GE(WaitFor([&] { return c.FullMesh(); }), 0);
  {
    std::lock_guard<std::mutex> l(c[1].local.mu);
    c[1].local.sessions["dev-1"] = std::string("session\0bytes", 13);
  }
  c[1].node->ClientConnected("dev-1", 1000);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // registration reaches A
  int64_t ms = 0;
  std::optional<std::string> got = Claim(*c[0].node, "dev-1", &ms);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, std::string("session\0bytes", 13));
  std::printf("[timing] remote takeover answered in %lld ms\n", static_cast<long long>(ms));
  {
    std::lock_guard<std::mutex> l(c[1].local.mu);
    EXPECT_EQ(c[1].local.takeovers, std::vector<std::string>{"dev-1"});
    EXPECT_EQ(c[1].local.takeover_to, std::vector<std::string>{c[0].id});  // who took it
  }
  {
    std::lock_guard<std::mutex> l(c[2].local.mu);
    EXPECT_TRUE(c[2].local.takeovers.empty());  // the registry knew the owner: only B asked
  }
  // Unknown id: every live peer is asked and says "not here".
  std::optional<std::string> none = Claim(*c[0].node, "nobody", &ms);
  EXPECT_FALSE(none.has_value());
  EXPECT_LT(ms, 500);
  // Held by this very node: nothing to claim remotely.
  c[0].node->ClientConnected("mine", 5);
  EXPECT_FALSE(Claim(*c[0].node, "mine", &ms).has_value());
  EXPECT_LT(ms, 50);
}

// What a moved session's old owner passes on: delivered to that one session only, with the QoS,
// RETAIN flag and subscription ids the old owner's subscription decided, in order.
TEST(ClusterClientRegistryTest, ForwardToSessionArrivesAsTargetedDelivery) {
  ClusterFixture c(2);
  c.StartAll();
  ASSERT_GE(WaitFor([&] { return c.FullMesh(); }), 0);
  for (int i = 0; i < 50; ++i) {
    auto msg = std::make_shared<broker::Message>();
    msg->topic = "moved/t";
    msg->payload = codec::SharedBytes(std::to_string(i));
    msg->qos = 2;
    bool queued = false;
    c[0].node->ForwardToSession(c[1].id, msg, {"dev-9", 1, true, {7, 9}},
                                [&](bool ok) { queued = ok; });
    ASSERT_TRUE(queued);
  }
  ASSERT_GE(WaitFor([&] {
              std::lock_guard<std::mutex> l(c[1].local.mu);
              return c[1].local.targeted.size() == 50;
            }), 0);
  std::lock_guard<std::mutex> l(c[1].local.mu);
  EXPECT_TRUE(c[1].local.delivered.empty());  // never to ordinary subscribers
  for (int i = 0; i < 50; ++i) {
    const auto& [msg, target] = c[1].local.targeted[i];
    EXPECT_EQ(msg->payload.str(), std::to_string(i));
    EXPECT_EQ(target.client_id, "dev-9");
    EXPECT_EQ(target.qos, 1);
    EXPECT_TRUE(target.retain);
    EXPECT_EQ(target.subscription_ids, (std::vector<uint32_t>{7, 9}));
  }
}

TEST(ClusterClientRegistryTest, ClaimTimesOutWhenTheOwnerGoesSilent) {
  ClusterFixture c(2);
  c.StartAll();
  ASSERT_GE(WaitFor([&] { return c.FullMesh(); }), 0);
  c[1].node->ClientConnected("dev", 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  {
    std::lock_guard<std::mutex> l(c[1].local.mu);
    c[1].local.never_answer_takeover = true;
  }
  int64_t ms = 0;
  EXPECT_FALSE(Claim(*c[0].node, "dev", &ms).has_value());  // CONNECT must never hang
  std::printf("[timing] unanswered takeover gave up after %lld ms (timeout 1000)\n",
              static_cast<long long>(ms));
  EXPECT_GE(ms, 900);
  EXPECT_LE(ms, 1300);
  EXPECT_EQ(c[0].node->Stats().takeovers_timed_out, 1u);
}

TEST(ClusterPartitionTest, HealRepairsRoutesAndEvictsTheOlderRegistration) {
  ClusterFixture c(2);
  c.StartAll();
  ASSERT_GE(WaitFor([&] { return c.FullMesh(); }), 0);
  c[0].node->AddLocalRoute("before/#");
  ASSERT_GE(WaitFor([&] { return c[1].local.HasRoute("A", "before/#"); }), 0);
  // Split.
  c[0].node->TestBlockPeer("B", true);
  c[1].node->TestBlockPeer("A", true);
  ASSERT_GE(WaitFor([&] { return c[0].local.SawDown("B") && c[1].local.SawDown("A"); }, 3000), 0);
  EXPECT_FALSE(c[1].local.HasRoute("A", "before/#"));
  // Both sides keep serving and accept the same client id; B's registration is newer.
  c[0].node->AddLocalRoute("during/#");
  c[0].node->ClientConnected("twin", 1000);
  c[1].node->ClientConnected("twin", 2000);
  c[1].node->ClientConnected("b-only", 1500);
  // Heal.
  int64_t t0 = NowMs();
  c[0].node->TestBlockPeer("B", false);
  c[1].node->TestBlockPeer("A", false);
  int64_t ms = WaitFor([&] {
    std::lock_guard<std::mutex> l(c[0].local.mu);
    return c[0].local.evicted == std::vector<std::string>{"twin"};
  });
  ASSERT_GE(ms, 0);
  std::printf("[timing] partition healed, routes resynced and the older twin evicted after %lld ms\n",
              static_cast<long long>(NowMs() - t0));
  ASSERT_GE(WaitFor([&] {
    return c[1].local.HasRoute("A", "before/#") && c[1].local.HasRoute("A", "during/#");
  }), 0);
  {
    std::lock_guard<std::mutex> l(c[1].local.mu);
    EXPECT_TRUE(c[1].local.evicted.empty());
  }
  EXPECT_EQ(c[0].node->Stats().evictions, 1u);
  // Everyone now agrees the twin lives on B: a claim from A goes there.
  int64_t claim_ms = 0;
  Claim(*c[0].node, "twin", &claim_ms);
  std::lock_guard<std::mutex> l(c[1].local.mu);
  EXPECT_EQ(c[1].local.takeovers, std::vector<std::string>{"twin"});
}

}  // namespace
}  // namespace meshmq::cluster::testing
