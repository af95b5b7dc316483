#include "broker/small_map.h"

#include <map>
#include <random>

#include "gtest/gtest.h"

namespace meshmq::broker {
namespace {

std::map<int, int> Contents(const SmallMap<int, int>& m) {
  std::map<int, int> out;
  for (const auto& [k, v] : m) EXPECT_TRUE(out.emplace(k, v).second) << "duplicate key " << k;
  return out;
}

TEST(SmallMapTest, InsertAssignFindErase) {
  SmallMap<int, int> m;
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.find(1), nullptr);
  auto [v, added] = m.insert_or_assign(1, 10);
  EXPECT_TRUE(added);
  EXPECT_EQ(*v, 10);
  auto [v2, added2] = m.insert_or_assign(1, 11);  // replaces, does not duplicate
  EXPECT_FALSE(added2);
  EXPECT_EQ(*v2, 11);
  EXPECT_EQ(m.size(), 1u);
  m.insert_or_assign(2, 20);
  EXPECT_TRUE(m.contains(2));
  EXPECT_EQ(*m.find(2), 20);
  EXPECT_EQ(m.erase(3), 0u);
  EXPECT_EQ(m.erase(1), 1u);
  EXPECT_EQ(Contents(m), (std::map<int, int>{{2, 20}}));
  EXPECT_EQ(m.erase(2), 1u);
  EXPECT_TRUE(m.empty());
}

// One entry is the common case and must not allocate: it lives inside the map object.
TEST(SmallMapTest, OneEntryIsInline) {
  SmallMap<int*, int> m;
  int x = 0;
  m.insert_or_assign(&x, 7);
  const auto* entry = &*m.begin();
  EXPECT_GE(reinterpret_cast<const char*>(entry), reinterpret_cast<const char*>(&m));
  EXPECT_LT(reinterpret_cast<const char*>(entry), reinterpret_cast<const char*>(&m) + sizeof(m));
}

// Across the index threshold in both directions, against std::map as the reference.
TEST(SmallMapTest, RandomizedAgainstStdMapAcrossTheIndexThreshold) {
  std::mt19937 rng(7);
  SmallMap<int, int> m;
  std::map<int, int> ref;
  for (int round = 0; round < 20000; ++round) {
    // Key range 0..39 keeps the size around the threshold (kIndexFrom = 8) and far above it.
    int limit = (round / 2000) % 2 == 0 ? 12 : 40;
    int key = std::uniform_int_distribution<int>(0, limit - 1)(rng);
    if (std::uniform_int_distribution<int>(0, 2)(rng) == 0) {
      ASSERT_EQ(m.erase(key), ref.erase(key)) << "round " << round;
    } else {
      bool added = m.insert_or_assign(key, round).second;
      ASSERT_EQ(added, ref.insert_or_assign(key, round).second) << "round " << round;
    }
    ASSERT_EQ(m.size(), ref.size());
    for (int k = 0; k < limit; ++k) {
      int* v = m.find(k);
      auto it = ref.find(k);
      ASSERT_EQ(v != nullptr, it != ref.end()) << "key " << k << " round " << round;
      if (v) {
        ASSERT_EQ(*v, it->second);
      }
    }
  }
  EXPECT_EQ(Contents(m), ref);
}

TEST(SmallMapTest, ManyEntriesEraseInConstantTimePerKey) {
  SmallMap<int, int> m;
  constexpr int kN = 200000;  // quadratic erase (a scan per key) would take minutes here
  for (int i = 0; i < kN; ++i) m.insert_or_assign(i, i);
  EXPECT_EQ(m.size(), static_cast<size_t>(kN));
  for (int i = 0; i < kN; i += 2) ASSERT_EQ(m.erase(i), 1u);
  for (int i = 1; i < kN; i += 2) ASSERT_EQ(*m.find(i), i);
  for (int i = 1; i < kN; i += 2) ASSERT_EQ(m.erase(i), 1u);
  EXPECT_TRUE(m.empty());
}

}  // namespace
}  // namespace meshmq::broker
