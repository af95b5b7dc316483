#include "broker/string_block_map.h"

#include <map>
#include <string>

#include "broker/client_registry.h"
#include "gtest/gtest.h"

namespace meshmq::broker {
namespace {

struct Pair {
  uint64_t a;
  uint16_t b;
};

TEST(StringBlockMapTest, FindAssignEraseWithUnalignedValues) {
  StringBlockMap<Pair> m;
  EXPECT_FALSE(m.Find("x"));
  m.Assign("x", Pair{1, 2});
  m.Assign("a-much-longer-key-than-any-small-string-buffer", Pair{~uint64_t{0}, 7});
  m.Assign("", Pair{5, 6});
  ASSERT_TRUE(m.Find("x"));
  EXPECT_EQ(m.Find("x")->a, 1u);
  EXPECT_EQ(m.Find("a-much-longer-key-than-any-small-string-buffer")->a, ~uint64_t{0});
  EXPECT_EQ(m.Find("")->b, 6);
  m.Assign("x", Pair{3, 4});  // replaces in place
  EXPECT_EQ(m.Find("x")->a, 3u);
  EXPECT_EQ(m.size(), 3u);
  std::map<std::string, uint64_t> seen;
  m.ForEach([&](std::string_view k, const Pair& v) { seen.emplace(std::string(k), v.a); });
  EXPECT_EQ(seen, (std::map<std::string, uint64_t>{
                      {"", 5}, {"x", 3}, {"a-much-longer-key-than-any-small-string-buffer", ~0ull}}));
  EXPECT_TRUE(m.Erase("x"));
  EXPECT_FALSE(m.Erase("x"));
  EXPECT_FALSE(m.Find("x"));
  EXPECT_EQ(m.size(), 2u);
}

TEST(StringBlockMapTest, ManyKeysSurviveRehashing) {
  StringBlockMap<int32_t> m;
  for (int i = 0; i < 20000; ++i) m.Assign("client-" + std::to_string(i), i);
  for (int i = 0; i < 20000; ++i) ASSERT_EQ(m.Find("client-" + std::to_string(i)), i);
  for (int i = 0; i < 20000; i += 2) ASSERT_TRUE(m.Erase("client-" + std::to_string(i)));
  EXPECT_EQ(m.size(), 10000u);
  EXPECT_FALSE(m.Find("client-0"));
  EXPECT_EQ(m.Find("client-1"), 1);
}

TEST(ClientRegistryTest, ClaimsSupersedeAndOnlyTheOwnerReleases) {
  ClientRegistry r;
  auto first = r.Acquire("dev-1", 3);
  EXPECT_EQ(first.previous_shard, -1);
  EXPECT_NE(first.token, 0u);
  EXPECT_EQ(r.ShardOf("dev-1"), 3);
  EXPECT_TRUE(r.IsOwner("dev-1", first.token));
  auto second = r.Acquire("dev-1", 1000);  // the largest --workers fits
  EXPECT_EQ(second.previous_shard, 3);
  EXPECT_NE(second.token, first.token);
  EXPECT_FALSE(r.IsOwner("dev-1", first.token));
  r.Release("dev-1", first.token);  // stale: ignored
  EXPECT_EQ(r.ShardOf("dev-1"), 1000);
  EXPECT_EQ(r.size(), 1u);
  r.Release("dev-1", second.token);
  EXPECT_EQ(r.ShardOf("dev-1"), -1);
  EXPECT_EQ(r.size(), 0u);
}

}  // namespace
}  // namespace meshmq::broker
