// The per-peer forward lane (bounded, order kept per producing thread, wake once per drain) and
// the lock-free lane directory.
#include "cluster/forward_lane.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace meshmq::cluster {
namespace {

ForwardLane::Entry MakeEntry(const std::string& topic, uint64_t n, size_t bytes = 100) {
  auto msg = std::make_shared<broker::Message>();
  msg->topic = topic;
  msg->origin_seq = n;
  ForwardLane::Entry e;
  e.msg = std::move(msg);
  e.bytes = bytes;
  return e;
}

TEST(ForwardLaneTest, BoundedByBudgetUntilBytesAreReleased) {
  ForwardLane lane("B", 1000);
  lane.SetOpen(true);
  int queued = 0, full = 0;
  for (int i = 0; i < 15; ++i) {
    auto r = lane.Push(MakeEntry("t", i));
    if (r == ForwardLane::PushResult::kFull) {
      ++full;
    } else {
      ++queued;
    }
  }
  EXPECT_EQ(queued, 10);
  EXPECT_EQ(full, 5);
  EXPECT_EQ(lane.used_bytes(), 1000u);
  // Drained entries still count (they wait in the peer's buffer for an ack) ...
  std::vector<ForwardLane::Entry> out;
  lane.Drain(&out);
  ASSERT_EQ(out.size(), 10u);
  EXPECT_EQ(lane.Push(MakeEntry("t", 99)), ForwardLane::PushResult::kFull);
  // ... until they are acked.
  lane.Release(300);
  for (int i = 0; i < 3; ++i) EXPECT_NE(lane.Push(MakeEntry("t", 100 + i)), ForwardLane::PushResult::kFull);
  EXPECT_EQ(lane.Push(MakeEntry("t", 200)), ForwardLane::PushResult::kFull);
  EXPECT_EQ(lane.Accepted(), 13u);
  EXPECT_EQ(lane.Refused(), 7u);
  EXPECT_EQ(lane.Pending(), 3u);
}

TEST(ForwardLaneTest, ClosedLaneRefusesWithoutSpendingBudget) {
  ForwardLane lane("B", 1000);
  EXPECT_EQ(lane.Push(MakeEntry("t", 1)), ForwardLane::PushResult::kClosed);
  lane.SetOpen(true);
  EXPECT_NE(lane.Push(MakeEntry("t", 2)), ForwardLane::PushResult::kClosed);
  lane.SetOpen(false);
  EXPECT_EQ(lane.Push(MakeEntry("t", 3)), ForwardLane::PushResult::kClosed);
  EXPECT_EQ(lane.used_bytes(), 100u);
  EXPECT_EQ(lane.Refused(), 2u);
}

TEST(ForwardLaneTest, OnlyTheFirstPushAfterArmingWakesTheWriter) {
  ForwardLane lane("B", 1 << 20);
  lane.SetOpen(true);
  int wakes = 0;
  lane.SetWaker([&] { ++wakes; });
  auto push = [&](uint64_t n) {
    if (lane.Push(MakeEntry("t", n)) == ForwardLane::PushResult::kQueuedWake) lane.Wake();
  };
  for (int i = 0; i < 100; ++i) push(i);
  EXPECT_EQ(wakes, 1);  // a new lane starts armed
  std::vector<ForwardLane::Entry> out;
  lane.Arm();
  lane.Drain(&out);
  for (int i = 0; i < 100; ++i) push(i);
  EXPECT_EQ(wakes, 2);
  lane.SetWaker(nullptr);
  lane.Arm();
  push(1);  // no writer: nothing to call, and no crash
  EXPECT_EQ(wakes, 2);
}

// Many threads push while a writer drains concurrently: every entry arrives exactly once and each
// thread's entries arrive in the order that thread pushed them.
TEST(ForwardLaneTest, ConcurrentProducersKeepTheirOrderAndLoseNothing) {
  constexpr int kThreads = 6, kPerThread = 20000;
  ForwardLane lane("B", SIZE_MAX / 2);
  lane.SetOpen(true);
  std::atomic<int> wakes{0};
  lane.SetWaker([&] { wakes.fetch_add(1); });
  std::atomic<int> done{0};
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      std::string topic = "p" + std::to_string(t);
      for (int i = 0; i < kPerThread; ++i) {
        if (lane.Push(MakeEntry(topic, i, 10)) == ForwardLane::PushResult::kQueuedWake) lane.Wake();
      }
      done.fetch_add(1);
    });
  }
  std::map<std::string, uint64_t> next;
  size_t received = 0;
  bool in_order = true;
  std::vector<ForwardLane::Entry> out;
  for (;;) {
    bool finished = done.load() == kThreads;
    lane.Arm();
    out.clear();
    lane.Drain(&out);
    for (const auto& e : out) {
      uint64_t& n = next[e.msg->topic];
      in_order = in_order && e.msg->origin_seq == n;
      n = e.msg->origin_seq + 1;
      lane.Release(e.bytes);
    }
    received += out.size();
    if (finished && out.empty()) break;
  }
  for (auto& p : producers) p.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(received, static_cast<size_t>(kThreads * kPerThread));
  for (const auto& [topic, n] : next) EXPECT_EQ(n, static_cast<uint64_t>(kPerThread)) << topic;
  EXPECT_EQ(lane.used_bytes(), 0u);
  EXPECT_GE(wakes.load(), 1);
  EXPECT_LT(wakes.load(), kThreads * kPerThread / 10);  // wakes per drain, not per message
}

TEST(LaneDirectoryTest, FindsEveryLaneWhileGrowingAndNothingElse) {
  LaneDirectory dir;
  std::atomic<bool> stop{false};
  std::atomic<bool> wrong{false};
  // A reader probing while the table is replaced must never see a wrong lane.
  std::thread reader([&] {
    while (!stop.load()) {
      ForwardLane* l = dir.Find("node7");
      if (l != nullptr && l->node_id() != "node7") wrong = true;
    }
  });
  std::vector<ForwardLane*> lanes;
  for (int i = 0; i < 200; ++i) lanes.push_back(dir.Insert("node" + std::to_string(i), 100));
  stop = true;
  reader.join();
  EXPECT_FALSE(wrong.load());
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(dir.Find("node" + std::to_string(i)), lanes[i]);
    EXPECT_EQ(dir.Insert("node" + std::to_string(i), 100), lanes[i]);  // no duplicate
  }
  EXPECT_EQ(dir.Find("node200"), nullptr);
  EXPECT_EQ(dir.Find(""), nullptr);
}

}  // namespace
}  // namespace meshmq::cluster
