// ClusterNode over real gRPC on loopback: membership, routes, forwarding, failure detection.
// Timings are printed (they feed docs/cluster.md). heartbeat 100 ms, failure timeout 600 ms.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "test_cluster.h"

namespace meshmq::cluster::testing {
namespace {

class ClusterNodeTest : public ::testing::Test {
 protected:
  void StartMesh(ClusterFixture& c) {
    c.StartAll();
    ASSERT_GE(WaitFor([&] { return c.FullMesh() && c.AllReady(); }), 0);
  }
};

TEST_F(ClusterNodeTest, ThreeNodesFormAClusterAndNeverPeerWithThemselves) {
  ClusterFixture c(3);
  int64_t t0 = NowMs();
  StartMesh(c);
  std::printf("[timing] 3-node mesh formed and ready in %lld ms\n",
              static_cast<long long>(NowMs() - t0));
  for (int i = 0; i < 3; ++i) {
    auto members = c[i].node->Members();
    ASSERT_EQ(members.size(), 2u);
    for (auto& m : members) {
      EXPECT_NE(m.node_id, c[i].id);
      EXPECT_EQ(m.state, "alive");
      EXPECT_NE(m.incarnation, 0u);
      EXPECT_EQ(m.address, "127.0.0.1:" + std::to_string(c[m.node_id[0] - 'A'].port));
    }
  }
}

TEST_F(ClusterNodeTest, RoutesPropagateBothWays) {
  ClusterFixture c(3);
  StartMesh(c);
  c[0].node->AddLocalRoute("sensors/+/temp");
  c[0].node->AddLocalRoute("$share/g/jobs/#");
  int64_t add_ms = WaitFor([&] {
    return c[1].local.HasRoute("A", "sensors/+/temp") && c[2].local.HasRoute("A", "sensors/+/temp") &&
           c[1].local.HasRoute("A", "$share/g/jobs/#") && c[2].local.HasRoute("A", "$share/g/jobs/#");
  });
  ASSERT_GE(add_ms, 0);
  c[0].node->RemoveLocalRoute("sensors/+/temp");
  int64_t remove_ms = WaitFor([&] {
    return !c[1].local.HasRoute("A", "sensors/+/temp") && !c[2].local.HasRoute("A", "sensors/+/temp");
  });
  ASSERT_GE(remove_ms, 0);
  std::printf("[timing] route add visible on B and C after %lld ms, removal after %lld ms\n",
              static_cast<long long>(add_ms), static_cast<long long>(remove_ms));
  EXPECT_EQ(c[1].local.RouteCount("A"), 1u);
  EXPECT_EQ(c[1].local.RouteCount("C"), 0u);
  // Members reflect the route counts; the heartbeat digest agrees, so no snapshot is requested.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (auto& m : c[1].node->Members()) {
    if (m.node_id == "A") {
      EXPECT_EQ(m.routes, 1u);
    }
  }
  EXPECT_EQ(c[1].node->Stats().route_deltas_received, 3u);
  auto stats = c[1].node->Stats();
  std::printf("[timing] route lag (owner send -> applied): last %lld ms, max %lld ms\n",
              static_cast<long long>(stats.last_route_lag_ms),
              static_cast<long long>(stats.max_route_lag_ms));
}

TEST_F(ClusterNodeTest, ForwardDeliversExactlyOnceInOrderWithTargetsIntact) {
  ClusterFixture c(3);
  StartMesh(c);
  constexpr int kCount = 1000;
  int64_t t0 = NowMs();
  int queued = 0;
  for (int i = 0; i < kCount; ++i) {
    std::vector<std::string> shared;
    if (i % 3 == 0) shared = {"$share/g/t/#", "$share/h/t/+"};
    c[0].node->Forward("B", MakeMsg("t/" + std::to_string(i % 7), std::to_string(i), i % 2, "A"),
                       i % 2 == 0, shared, [&](bool ok) { queued += ok; });
  }
  EXPECT_EQ(queued, kCount);
  ASSERT_GE(WaitFor([&] { return c[1].local.DeliveredCount() >= kCount; }), 0);
  std::printf("[timing] %d forwards A->B delivered in %lld ms\n", kCount,
              static_cast<long long>(NowMs() - t0));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // would-be duplicates arrive
  std::lock_guard<std::mutex> l(c[1].local.mu);
  ASSERT_EQ(c[1].local.delivered.size(), static_cast<size_t>(kCount));
  for (int i = 0; i < kCount; ++i) {
    const Delivered& d = c[1].local.delivered[i];
    EXPECT_EQ(d.payload, std::to_string(i));
    EXPECT_EQ(d.topic, "t/" + std::to_string(i % 7));
    EXPECT_EQ(d.qos, i % 2);
    EXPECT_EQ(d.origin_node, "A");
    EXPECT_EQ(d.to_subscribers, i % 2 == 0);
    EXPECT_EQ(d.shared_filters.size(), i % 3 == 0 ? 2u : 0u);
  }
  EXPECT_EQ(c[2].local.DeliveredCount(), 0u);
  bool unknown_ok = true;
  c[0].node->Forward("nobody", MakeMsg("t", "x", 1), true, {}, [&](bool ok) { unknown_ok = ok; });
  EXPECT_FALSE(unknown_ok);
  // Every forward acked: nothing left in A's buffer for B.
  EXPECT_GE(WaitFor([&] {
    for (auto& m : c[0].node->Members()) {
      if (m.node_id == "B") return m.queue_depth == 0 && m.forwarded_to == kCount;
    }
    return false;
  }), 0);
  auto stats = c[0].node->Stats();
  uint64_t acked = 0;
  for (uint64_t b : stats.forward_latency_buckets) acked += b;
  EXPECT_EQ(acked, static_cast<uint64_t>(kCount));
}

TEST_F(ClusterNodeTest, Qos1ForwardSurvivesBrokenStreamsWithoutLossOrDuplicates) {
  ClusterFixture c(2);
  StartMesh(c);
  // Phase 1: B loses everything on the wire, then the stream breaks: A must resend.
  c[1].node->TestDropIncomingForwards(true);
  for (int i = 0; i < 200; ++i) {
    c[0].node->Forward("B", MakeMsg("q", std::to_string(i), 1, "A"), true, {}, nullptr);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(c[1].local.DeliveredCount(), 0u);
  c[1].node->TestDropIncomingForwards(false);
  int64_t t0 = NowMs();
  c[0].node->TestBreakStreams("B");
  ASSERT_GE(WaitFor([&] { return c[1].local.DeliveredCount() >= 200; }), 0);
  std::printf("[timing] 200 QoS1 forwards recovered %lld ms after the stream broke\n",
              static_cast<long long>(NowMs() - t0));
  // Phase 2: B received but has not finished delivery (no ack) when the stream breaks: A resends,
  // B drops the duplicates.
  c[1].local.hold_done = true;
  for (int i = 200; i < 300; ++i) {
    c[0].node->Forward("B", MakeMsg("q", std::to_string(i), 1, "A"), true, {}, nullptr);
  }
  ASSERT_GE(WaitFor([&] { return c[1].local.DeliveredCount() >= 300; }), 0);
  c[1].node->TestBreakStreams("A");  // from the receiving side this time
  ASSERT_GE(WaitFor([&] { return c[1].node->Stats().forwards_duplicate >= 100; }), 0);
  c[1].local.ReleaseHeld();
  EXPECT_GE(WaitFor([&] {
    for (auto& m : c[0].node->Members()) {
      if (m.node_id == "B") return m.queue_depth == 0;
    }
    return false;
  }), 0);
  // And a few more after all that, to see the stream is healthy.
  for (int i = 300; i < 310; ++i) {
    c[0].node->Forward("B", MakeMsg("q", std::to_string(i), 1, "A"), true, {}, nullptr);
  }
  ASSERT_GE(WaitFor([&] { return c[1].local.DeliveredCount() >= 310; }), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::lock_guard<std::mutex> l(c[1].local.mu);
  ASSERT_EQ(c[1].local.delivered.size(), 310u);
  for (int i = 0; i < 310; ++i) EXPECT_EQ(c[1].local.delivered[i].payload, std::to_string(i));
  EXPECT_GE(c[0].node->Stats().forwards_resent, 300u);
}

// A stream that broke while its reader was still handing a batch to the broker: the sender
// resends on a new stream, whose reader must not deliver later messages before the old reader
// has delivered the earlier ones (per-publisher order, [MQTT-4.6.0]). The old reader is held
// inside the delivery of message 10 while the new stream carries 20..29.
TEST_F(ClusterNodeTest, NewStreamWaitsForTheOldReadersDeliveriesToKeepOrder) {
  // Declared before the fixture: the nodes may still deliver (through the gate) while stopping.
  std::mutex gate_mu;
  std::condition_variable gate_cv;
  bool holding = false, released = false, gated = false;
  auto release = [&] {
    std::lock_guard<std::mutex> l(gate_mu);
    released = true;
    gate_cv.notify_all();
  };
  ClusterFixture c(2);
  // Opens the gate on every exit, also a failed ASSERT, before the fixture stops the nodes.
  struct OpenGate {
    std::function<void()> open;
    ~OpenGate() { open(); }
  } open_gate{release};
  c[1].local.before_deliver = [&](const broker::Message& m) {
    std::unique_lock<std::mutex> l(gate_mu);
    if (gated || m.payload.str() != "10") return;
    gated = holding = true;
    gate_cv.notify_all();
    gate_cv.wait(l, [&] { return released; });
  };
  StartMesh(c);
  for (int i = 0; i < 20; ++i) {
    c[0].node->Forward("B", MakeMsg("q", std::to_string(i), 1, "A"), true, {}, nullptr);
  }
  {
    std::unique_lock<std::mutex> l(gate_mu);
    ASSERT_TRUE(gate_cv.wait_for(l, std::chrono::seconds(5), [&] { return holding; }));
  }
  uint64_t streams = c[0].node->Stats().streams_established;
  c[0].node->TestBreakStreams("B");
  ASSERT_GE(WaitFor([&] { return c[0].node->Stats().streams_established > streams; }), 0);
  for (int i = 20; i < 30; ++i) {
    c[0].node->Forward("B", MakeMsg("q", std::to_string(i), 1, "A"), true, {}, nullptr);
  }
  // Before the fix the new stream's reader delivered 20..29 here, ahead of 10..19. The wait is
  // short of the failure timeout (600 ms): B hears nothing from A while its reader waits.
  WaitFor([&] { return c[1].local.DeliveredCount() > 10; }, 300);
  release();
  ASSERT_GE(WaitFor([&] { return c[1].local.DeliveredCount() >= 30; }), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // would-be duplicates arrive
  std::lock_guard<std::mutex> l(c[1].local.mu);
  std::vector<std::string> got, want;
  for (const Delivered& d : c[1].local.delivered) got.push_back(d.payload);
  for (int i = 0; i < 30; ++i) want.push_back(std::to_string(i));
  EXPECT_EQ(got, want);
}

// A session moved from B to C: B's tombstone may end only once every peer's earlier forwards to
// B have been handled there (forward_barrier.cc). Here A's forward is delivered to B's local node
// but not finished, so the barrier must wait for it.
TEST_F(ClusterNodeTest, ForwardBarrierWaitsUntilEarlierForwardsAreHandled) {
  std::atomic<int> passed{0};  // outlives the nodes (a callback may run while they stop)
  ClusterFixture c(3);
  StartMesh(c);
  c[1].local.hold_done = true;
  c[0].node->Forward("B", MakeMsg("t/1", "early", 1, "A"), true, {}, nullptr);
  ASSERT_GE(WaitFor([&] {
              std::lock_guard<std::mutex> l(c[1].local.mu);
              return c[1].local.held.size() == 1;
            }),
            0);
  c[1].node->AwaitForwardBarrier("C", [&] { ++passed; });
  // A and C answer at once; B has not finished A's forward yet.
  WaitFor([&] { return passed.load() > 0; }, 500);
  EXPECT_EQ(passed.load(), 0) << "passed before A's earlier forward was handled";
  std::vector<std::function<void()>> held;
  {
    std::lock_guard<std::mutex> l(c[1].local.mu);
    held.swap(c[1].local.held);
    c[1].local.hold_done = false;
  }
  for (auto& done : held) done();
  ASSERT_GE(WaitFor([&] { return passed.load() > 0; }), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(passed.load(), 1);
}

// A peer answers only once it routes with the new owner's routes that the asking node has: here
// A is cut off from C when C announces its route, so A could still route to B alone.
TEST_F(ClusterNodeTest, ForwardBarrierWaitsForThePeerToHaveTheNewOwnersRoutes) {
  std::atomic<int> passed{0};
  ClusterFixture c(3);
  StartMesh(c);
  c[0].node->TestBlockPeer("C", true);
  c[2].node->TestBlockPeer("A", true);
  c[2].node->AddLocalRoute("moved/#");
  ASSERT_GE(WaitFor([&] { return c[1].local.HasRoute("C", "moved/#"); }), 0);
  c[1].node->AwaitForwardBarrier("C", [&] { ++passed; });
  // Well inside the failure timeout (600 ms), after which A would stop waiting for a dead C.
  WaitFor([&] { return passed.load() > 0; }, 250);
  EXPECT_FALSE(c[0].local.HasRoute("C", "moved/#"));
  EXPECT_EQ(passed.load(), 0) << "A answered without C's new route";
  c[0].node->TestBlockPeer("C", false);
  c[2].node->TestBlockPeer("A", false);
  ASSERT_GE(WaitFor([&] { return passed.load() > 0; }), 0);
}

// B has no stream to A when it asks (a partition that heals at once): A is asked when the stream
// is back, instead of the barrier running into its 5 s bound.
TEST_F(ClusterNodeTest, ForwardBarrierAsksAPeerAgainWhenItsStreamComesBack) {
  std::atomic<int> passed{0};
  ClusterFixture c(3);
  StartMesh(c);
  c[1].node->TestBlockPeer("A", true);
  c[0].node->TestBlockPeer("B", true);
  auto start = std::chrono::steady_clock::now();
  c[1].node->AwaitForwardBarrier("C", [&] { ++passed; });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  c[1].node->TestBlockPeer("A", false);
  c[0].node->TestBlockPeer("B", false);
  ASSERT_GE(WaitFor([&] { return passed.load() > 0; }), 0);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - start).count();
  std::printf("forward barrier across a healed stream: %lld ms\n", static_cast<long long>(ms));
  EXPECT_LT(ms, 3000) << "waited for the deadline instead of asking again";
}

// With nothing in flight the barrier is a round trip, far below its 5 s bound.
TEST_F(ClusterNodeTest, ForwardBarrierWithNothingInFlightPassesAtOnce) {
  std::atomic<int> passed{0};
  ClusterFixture c(3);
  StartMesh(c);
  c[2].node->AddLocalRoute("moved/#");
  ASSERT_GE(WaitFor([&] {
              std::lock_guard<std::mutex> l(c[1].local.mu);
              return c[1].local.routes["C"].count("moved/#") == 1;
            }),
            0);
  auto start = std::chrono::steady_clock::now();
  c[1].node->AwaitForwardBarrier("C", [&] { ++passed; });
  ASSERT_GE(WaitFor([&] { return passed.load() > 0; }), 0);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - start).count();
  std::printf("forward barrier with nothing in flight: %lld ms\n", static_cast<long long>(ms));
  EXPECT_LT(ms, 2000);
}

TEST_F(ClusterNodeTest, BufferFullOrPeerDownRejectsForward) {
  ClusterFixture c(2);
  StartMesh(c);
  ClusterOptions o = c.Options(c[0]);
  c[0].node->Stop(false);
  c[0].local.delivered.clear();
  o.peer_buffer_bytes = 1000;
  c.Start(0, &o);
  ASSERT_GE(WaitFor([&] { return c.FullMesh(); }), 0);
  c[1].node->TestDropIncomingForwards(true);  // nothing is acked, so the buffer fills
  int accepted = 0, refused = 0;
  for (int i = 0; i < 20; ++i) {
    c[0].node->Forward("B", MakeMsg("q", std::string(100, 'x'), 1), true, {},
                       [&](bool ok) { (ok ? accepted : refused)++; });
  }
  EXPECT_GT(accepted, 0);
  EXPECT_GT(refused, 0);
  EXPECT_EQ(accepted + refused, 20);
}

TEST_F(ClusterNodeTest, CrashedNodeIsDownAndItsRoutesDroppedWithinFailureTimeout) {
  ClusterFixture c(3);
  StartMesh(c);
  c[0].node->AddLocalRoute("x/#");
  ASSERT_GE(WaitFor([&] { return c[1].local.HasRoute("A", "x/#") && c[2].local.HasRoute("A", "x/#"); }), 0);
  int64_t t0 = NowMs();
  c[0].node->Stop(false);
  int64_t ms = WaitFor([&] {
    return c[1].local.SawDown("A") && c[2].local.SawDown("A") && !c[1].local.HasRoute("A", "x/#") &&
           !c[2].local.HasRoute("A", "x/#");
  });
  ASSERT_GE(ms, 0);
  std::printf("[timing] crash detected and routes dropped after %lld ms (failure timeout 600)\n",
              static_cast<long long>(NowMs() - t0));
  EXPECT_LE(ms, 600 + 2 * 100 + 150);
  EXPECT_GE(ms, 400);  // not before the timeout: a broken stream alone is not a dead node
  for (auto& m : c[1].node->Members()) {
    if (m.node_id == "A") {
      EXPECT_EQ(m.state, "down");
    }
  }
  bool ok = true;
  c[1].node->Forward("A", MakeMsg("x/1", "p", 1), true, {}, [&](bool q) { ok = q; });
  EXPECT_FALSE(ok);
}

TEST_F(ClusterNodeTest, GracefulLeaveDropsRoutesImmediately) {
  ClusterFixture c(3);
  StartMesh(c);
  c[0].node->AddLocalRoute("x/#");
  ASSERT_GE(WaitFor([&] { return c[1].local.HasRoute("A", "x/#") && c[2].local.HasRoute("A", "x/#"); }), 0);
  int64_t t0 = NowMs();
  c[0].node->Stop(true);
  int64_t ms = WaitFor([&] {
    return c[1].local.SawDown("A") && c[2].local.SawDown("A") && !c[1].local.HasRoute("A", "x/#");
  });
  ASSERT_GE(ms, 0);
  std::printf("[timing] graceful leave: routes dropped on peers %lld ms after Stop(true) began\n",
              static_cast<long long>(NowMs() - t0));
  EXPECT_LT(ms, 1000);
  EXPECT_LT(ms, 400);  // well before the 600 ms failure timeout
  for (auto& m : c[2].node->Members()) {
    if (m.node_id == "A") {
      EXPECT_EQ(m.state, "left");
    }
  }
}

TEST_F(ClusterNodeTest, RestartWithNewIncarnationReplacesOldRoutesAtOnce) {
  ClusterFixture c(3);
  StartMesh(c);
  c[0].node->AddLocalRoute("old/#");
  ASSERT_GE(WaitFor([&] { return c[1].local.HasRoute("A", "old/#") && c[2].local.HasRoute("A", "old/#"); }), 0);
  c[0].node->Stop(false);
  ClusterOptions o = c.Options(c[0]);  // same id and port, new incarnation
  int64_t t0 = NowMs();
  c.Start(0, &o);
  c[0].node->AddLocalRoute("new/#");
  int64_t ms = WaitFor([&] {
    return !c[1].local.HasRoute("A", "old/#") && !c[2].local.HasRoute("A", "old/#") &&
           c[1].local.HasRoute("A", "new/#") && c[2].local.HasRoute("A", "new/#");
  });
  ASSERT_GE(ms, 0);
  std::printf("[timing] restart: old routes replaced by new ones %lld ms after the new start\n",
              static_cast<long long>(NowMs() - t0));
  EXPECT_LT(ms, 600);  // faster than the failure timeout: the incarnation told
  for (auto& m : c[1].node->Members()) {
    if (m.node_id == "A") {
      EXPECT_EQ(m.incarnation, o.incarnation);
    }
  }
}

}  // namespace
}  // namespace meshmq::cluster::testing
