// DeadlineQueue: the per-shard timer behind every client's connect and keep-alive deadline.
#include "broker/deadline_queue.h"

#include <chrono>
#include <cstdint>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meshmq::broker {
namespace {

using Clock = DeadlineQueue::Clock;
using std::chrono::milliseconds;
using ::testing::ElementsAre;

TEST(DeadlineQueueTest, FiresEachEntryAfterItsDeadlineInDeadlineOrder) {
  boost::asio::io_context io;
  std::vector<std::pair<uint64_t, milliseconds>> fired;  // id, lateness
  DeadlineQueue q(io, [&](uint64_t id, Clock::time_point deadline) {
    fired.emplace_back(id, std::chrono::duration_cast<milliseconds>(Clock::now() - deadline));
  });
  auto now = Clock::now();
  q.Watch(3, now + milliseconds(60));
  q.Watch(1, now + milliseconds(20));  // earlier than the armed expiry: re-arms
  q.Watch(2, now + milliseconds(40));
  io.run();
  ASSERT_EQ(fired.size(), 3u);
  EXPECT_EQ(fired[0].first, 1u);
  EXPECT_EQ(fired[1].first, 2u);
  EXPECT_EQ(fired[2].first, 3u);
  for (const auto& [id, late] : fired) EXPECT_GE(late.count(), 0) << "id " << id << " fired early";
  EXPECT_EQ(q.size(), 0u);
}

TEST(DeadlineQueueTest, AnEntryWatchedFromTheCallbackFiresLater) {
  boost::asio::io_context io;
  std::vector<uint64_t> fired;
  DeadlineQueue* queue = nullptr;
  DeadlineQueue q(io, [&](uint64_t id, Clock::time_point deadline) {
    fired.push_back(id);
    if (id == 1) queue->Watch(7, deadline + milliseconds(10));  // a keep-alive re-arm
  });
  queue = &q;
  q.Watch(1, Clock::now() + milliseconds(5));
  io.run();
  EXPECT_THAT(fired, ElementsAre(1u, 7u));
}

TEST(DeadlineQueueTest, StopDropsEverythingAndLetsTheContextFinish) {
  boost::asio::io_context io;
  int fired = 0;
  DeadlineQueue q(io, [&](uint64_t, Clock::time_point) { ++fired; });
  q.Watch(1, Clock::now() + std::chrono::hours(1));
  q.Stop();
  q.Watch(2, Clock::now());  // ignored once stopped
  auto start = Clock::now();
  io.run();  // returns at once: no pending wait is left
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(fired, 0);
  EXPECT_EQ(q.size(), 0u);
}

}  // namespace
}  // namespace meshmq::broker
