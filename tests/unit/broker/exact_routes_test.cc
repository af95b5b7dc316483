#include "broker/exact_routes.h"

#include <string>

#include "gtest/gtest.h"

namespace meshmq::broker {
namespace {

TEST(ExactRoutesTest, IsExactOnlyForPlainFiltersWithoutWildcards) {
  EXPECT_TRUE(ExactRoutes::IsExact("a/b/c"));
  EXPECT_TRUE(ExactRoutes::IsExact("$SYS/broker/uptime"));
  EXPECT_TRUE(ExactRoutes::IsExact("a//b"));
  EXPECT_FALSE(ExactRoutes::IsExact("a/+/c"));
  EXPECT_FALSE(ExactRoutes::IsExact("a/#"));
  EXPECT_FALSE(ExactRoutes::IsExact("#"));
  EXPECT_FALSE(ExactRoutes::IsExact("$share/g/a/b"));  // shared groups keep weights in the trie
}

TEST(ExactRoutesTest, MatchesOnlyTheSameTopicAndCollectsShards) {
  ExactRoutes r;
  EXPECT_EQ(r.Match("a/b"), 0u);
  r.Add("a/b", 1);
  r.Add("a/b", 3);
  r.Add("a/c", 0);
  EXPECT_EQ(r.Match("a/b"), (1u << 1) | (1u << 3));
  EXPECT_EQ(r.Match("a/c"), 1u);
  EXPECT_EQ(r.Match("a/b/"), 0u);
  EXPECT_EQ(r.Match("a"), 0u);
  EXPECT_EQ(r.Match("A/b"), 0u);
  r.Remove("a/b", 1);
  EXPECT_EQ(r.Match("a/b"), 1u << 3);
  r.Remove("a/b", 3);
  EXPECT_EQ(r.Match("a/b"), 0u);
  r.Remove("a/c", 0);
  EXPECT_TRUE(r.empty());
}

TEST(ExactRoutesTest, HighestShardBitAndRemovingUnknownIsHarmless) {
  ExactRoutes r;
  r.Add("t", ExactRoutes::kMaxShards - 1);
  EXPECT_EQ(r.Match("t"), uint64_t{1} << (ExactRoutes::kMaxShards - 1));
  r.Remove("never-added", 2);
  r.Remove("t", 5);  // a shard that does not hold it: its bit was clear
  EXPECT_EQ(r.Match("t"), uint64_t{1} << (ExactRoutes::kMaxShards - 1));
}

// Every filter hashes alike: the index must still keep a shard's bit until the last of its
// colliding filters is withdrawn (a lost bit would lose deliveries; an extra one only costs a
// needless task to that shard).
uint64_t Collide(std::string_view) { return 42; }

TEST(ExactRoutesTest, CollidingFiltersOfOneShardKeepItsBitUntilAllAreGone) {
  ExactRoutes r(&Collide);
  r.Add("x/1", 2);
  r.Add("x/2", 2);
  r.Add("x/3", 2);
  r.Add("x/1", 4);
  EXPECT_EQ(r.Match("x/1"), (1u << 2) | (1u << 4));
  EXPECT_EQ(r.Match("anything"), (1u << 2) | (1u << 4));  // a collision: superset, never less
  r.Remove("x/2", 2);
  r.Remove("x/1", 2);
  EXPECT_EQ(r.Match("x/3"), (1u << 2) | (1u << 4));  // x/3 is still held on shard 2
  r.Remove("x/3", 2);
  EXPECT_EQ(r.Match("x/3"), 1u << 4);
  r.Remove("x/1", 4);
  EXPECT_TRUE(r.empty());
}

TEST(ExactRoutesTest, ReAddAfterRemoveOfManyFilters) {
  ExactRoutes r;
  for (int i = 0; i < 5000; ++i) r.Add("dev/" + std::to_string(i), i % 3);
  EXPECT_EQ(r.size(), 5000u);
  for (int i = 0; i < 5000; ++i) {
    ASSERT_EQ(r.Match("dev/" + std::to_string(i)), uint64_t{1} << (i % 3)) << i;
  }
  EXPECT_EQ(r.Match("dev/5000"), 0u);
  for (int i = 0; i < 5000; i += 2) r.Remove("dev/" + std::to_string(i), i % 3);
  EXPECT_EQ(r.size(), 2500u);
  EXPECT_EQ(r.Match("dev/2"), 0u);
  EXPECT_EQ(r.Match("dev/3"), 1u);
  r.Add("dev/2", 1);
  EXPECT_EQ(r.Match("dev/2"), 2u);
}

}  // namespace
}  // namespace meshmq::broker
