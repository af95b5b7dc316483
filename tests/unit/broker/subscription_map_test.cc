#include "broker/subscription_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace meshmq::broker {
namespace {

StoredSubscription Sub(const std::string& filter, uint8_t qos, uint32_t id = 0) {
  StoredSubscription s;
  s.request.filter = filter;
  s.request.qos = qos;
  s.subscription_id = id;
  return s;
}

TEST(SubscriptionMapTest, OneSubscriptionAddReplaceRemove) {
  SubscriptionMap m;
  EXPECT_TRUE(m.empty());
  EXPECT_TRUE(m.InsertOrAssign(Sub("a/b", 1)));
  EXPECT_FALSE(m.InsertOrAssign(Sub("a/b", 2, 7)));  // same filter: replaced, not added
  ASSERT_EQ(m.size(), 1u);
  const StoredSubscription* s = m.Find("a/b");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->request.qos, 2);
  EXPECT_EQ(s->subscription_id, 7u);
  EXPECT_EQ(m.Find("a/c"), nullptr);
  EXPECT_FALSE(m.Erase("a/c"));
  EXPECT_TRUE(m.Erase("a/b"));
  EXPECT_TRUE(m.empty());
  EXPECT_FALSE(m.contains("a/b"));
}

// Against std::map through the switch to the index and back, with short (SSO) and long filters
// (the index views strings that move when the vector grows or an erase fills a hole).
TEST(SubscriptionMapTest, MatchesAReferenceMapAcrossTheIndexThreshold) {
  SubscriptionMap m;
  std::map<std::string, uint8_t> ref;
  std::mt19937 rng(42);
  auto filter = [](int i) {
    return i % 2 == 0 ? "t/" + std::to_string(i)
                      : "a/rather/long/topic/filter/that/is/not/inline/" + std::to_string(i);
  };
  for (int step = 0; step < 5000; ++step) {
    int i = static_cast<int>(rng() % 40);
    uint8_t qos = static_cast<uint8_t>(rng() % 3);
    if (rng() % 3 != 0) {
      bool added = m.InsertOrAssign(Sub(filter(i), qos));
      EXPECT_EQ(added, ref.insert_or_assign(filter(i), qos).second);
    } else {
      EXPECT_EQ(m.Erase(filter(i)), ref.erase(filter(i)) == 1);
    }
    ASSERT_EQ(m.size(), ref.size());
    for (const auto& [f, q] : ref) {
      const StoredSubscription* s = m.Find(f);
      ASSERT_NE(s, nullptr) << f;
      EXPECT_EQ(s->request.qos, q);
    }
    std::map<std::string, uint8_t> seen;
    for (const auto& [f, s] : m) {
      EXPECT_EQ(f, s.request.filter);
      seen[f] = s.request.qos;
    }
    EXPECT_EQ(seen, ref);
  }
}

}  // namespace
}  // namespace meshmq::broker
