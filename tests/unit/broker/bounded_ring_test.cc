#include "broker/bounded_ring.h"

#include <memory>

#include <gtest/gtest.h>

namespace meshmq::broker {
namespace {

TEST(BoundedRingTest, KeepsFirstInFirstOutOrderAcrossTheWrap) {
  BoundedRing<int> ring(3);
  EXPECT_TRUE(ring.empty());
  int next = 0;
  for (int round = 0; round < 10; ++round) {
    while (!ring.full()) ring.push_back(next++);
    ASSERT_EQ(ring.size(), 3u);
    for (size_t i = 0; i < ring.size(); ++i) EXPECT_EQ(ring[i], ring.front() + static_cast<int>(i));
    EXPECT_EQ(ring.front(), next - 3);
    ring.pop_front();
    ring.pop_front();
  }
  EXPECT_EQ(ring.size(), 1u);
  EXPECT_EQ(ring.front(), next - 1);
}

TEST(BoundedRingTest, PopReleasesWhatTheSlotHeld) {
  BoundedRing<std::shared_ptr<int>> ring(2);
  auto value = std::make_shared<int>(7);
  ring.push_back(value);
  EXPECT_EQ(value.use_count(), 2);
  ring.pop_front();
  EXPECT_EQ(value.use_count(), 1);  // not kept alive by a stale slot
  ring.push_back(value);
  ring.push_back(value);
  ring.clear();
  EXPECT_TRUE(ring.empty());
  EXPECT_EQ(value.use_count(), 1);
}

}  // namespace
}  // namespace meshmq::broker
