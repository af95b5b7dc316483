#include "broker/shared_picker.h"

#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace meshmq::broker {
namespace {

TEST(SharedPickerTest, ParseAndNameRoundTrip) {
  SharedStrategy s = SharedStrategy::kRandom;
  EXPECT_TRUE(ParseSharedStrategy("round_robin", s));
  EXPECT_EQ(s, SharedStrategy::kRoundRobin);
  EXPECT_TRUE(ParseSharedStrategy("random", s));
  EXPECT_EQ(s, SharedStrategy::kRandom);
  EXPECT_TRUE(ParseSharedStrategy("hash_client_id", s));
  EXPECT_EQ(s, SharedStrategy::kHashClientId);
  for (SharedStrategy each :
       {SharedStrategy::kRoundRobin, SharedStrategy::kRandom, SharedStrategy::kHashClientId}) {
    SharedStrategy parsed = SharedStrategy::kRoundRobin;
    ASSERT_TRUE(ParseSharedStrategy(SharedStrategyName(each), parsed));
    EXPECT_EQ(parsed, each);
  }
}

TEST(SharedPickerTest, ParseRejectsUnknownAndLeavesOutput) {
  for (const char* bad : {"", "Round_Robin", "roundrobin", "hash", "random ", "sticky"}) {
    SharedStrategy s = SharedStrategy::kHashClientId;
    EXPECT_FALSE(ParseSharedStrategy(bad, s)) << bad;
    EXPECT_EQ(s, SharedStrategy::kHashClientId);
  }
}

TEST(SharedPickerTest, RoundRobinCycles) {
  SharedPicker picker(SharedStrategy::kRoundRobin);
  std::vector<std::size_t> got;
  for (int i = 0; i < 7; ++i) got.push_back(picker.Pick(3, "pub"));
  EXPECT_EQ(got, (std::vector<std::size_t>{0, 1, 2, 0, 1, 2, 0}));
  // A group that shrinks still gets in-range picks.
  for (int i = 0; i < 10; ++i) EXPECT_LT(picker.Pick(2, "pub"), 2u);
  EXPECT_EQ(picker.Pick(1, "pub"), 0u);
}

TEST(SharedPickerTest, RoundRobinEvenOverManyPicks) {
  SharedPicker picker;  // default strategy is round robin
  std::vector<int> counts(5, 0);
  for (int i = 0; i < 5000; ++i) ++counts[picker.Pick(5, "x")];
  for (int c : counts) EXPECT_EQ(c, 1000);
}

TEST(SharedPickerTest, ZeroMembersReturnsZero) {
  for (SharedStrategy s :
       {SharedStrategy::kRoundRobin, SharedStrategy::kRandom, SharedStrategy::kHashClientId}) {
    SharedPicker picker(s, 1);
    EXPECT_EQ(picker.Pick(0, "c"), 0u);
  }
}

TEST(SharedPickerTest, HashIsStableAndPerPublisher) {
  SharedPicker a(SharedStrategy::kHashClientId);
  SharedPicker b(SharedStrategy::kHashClientId, 99);  // seed must not matter
  std::set<std::size_t> seen;
  for (int i = 0; i < 200; ++i) {
    std::string client = "client-" + std::to_string(i);
    std::size_t first = a.Pick(7, client);
    EXPECT_LT(first, 7u);
    EXPECT_EQ(a.Pick(7, client), first);  // same publisher, same member
    EXPECT_EQ(b.Pick(7, client), first);  // another picker (another node) agrees
    seen.insert(first);
  }
  EXPECT_EQ(seen.size(), 7u);  // different publishers spread over the members
}

TEST(SharedPickerTest, Fnv1aKnownVectors) {
  // Published FNV-1a 64 test vectors: pins the hash so nodes of different builds agree.
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ull);
  SharedPicker picker(SharedStrategy::kHashClientId);
  EXPECT_EQ(picker.Pick(1000, "foobar"), 0x85944171f73967e8ull % 1000);
}

TEST(SharedPickerTest, RandomInRangeAndSpread) {
  SharedPicker picker(SharedStrategy::kRandom, 42);
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 40000; ++i) {
    std::size_t p = picker.Pick(4, "same-publisher");
    ASSERT_LT(p, 4u);
    ++counts[p];
  }
  // Expected 10000 each; 9000..11000 is over 20 standard deviations wide.
  for (int c : counts) {
    EXPECT_GT(c, 9000);
    EXPECT_LT(c, 11000);
  }
}

TEST(SharedPickerTest, RandomIsReproducibleForASeedAndVariesBetweenSeeds) {
  SharedPicker a(SharedStrategy::kRandom, 7), b(SharedStrategy::kRandom, 7),
      c(SharedStrategy::kRandom, 8);
  std::vector<std::size_t> va, vb, vc;
  for (int i = 0; i < 50; ++i) {
    va.push_back(a.Pick(1000, "p"));
    vb.push_back(b.Pick(1000, "p"));
    vc.push_back(c.Pick(1000, "p"));
  }
  EXPECT_EQ(va, vb);
  EXPECT_NE(va, vc);
  EXPECT_GT(std::set<std::size_t>(va.begin(), va.end()).size(), 40u);  // not stuck
}

}  // namespace
}  // namespace meshmq::broker
