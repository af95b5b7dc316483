#include "broker/filter_counts.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace meshmq::broker {
namespace {

std::set<std::string> Contents(const FilterCounts& c) {
  std::set<std::string> out;
  c.ForEach([&](std::string_view f) { EXPECT_TRUE(out.emplace(f).second) << f; });
  return out;
}

TEST(FilterCountsTest, CountsUpAndDownAndForgetsAtZero) {
  FilterCounts c;
  const std::string longf = "bench/12345-678901/c1234/and/a/bit/longer/than/sso";
  EXPECT_EQ(c.Add("a/b", 1), 1);
  EXPECT_EQ(c.Add("a/b", 1), 2);
  EXPECT_EQ(c.Add(longf, 1), 1);
  EXPECT_EQ(c.Add("", 1), 1);  // the empty string is a key like any other
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(c.Count("a/b"), 2);
  EXPECT_EQ(c.Count(longf), 1);
  EXPECT_EQ(c.Count("a/b/"), 0);
  EXPECT_EQ(Contents(c), (std::set<std::string>{"", "a/b", longf}));
  EXPECT_EQ(c.Add("a/b", -1), 1);
  EXPECT_EQ(c.Add("a/b", -1), 0);
  EXPECT_EQ(c.Count("a/b"), 0);
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(c.Add(longf, -1), 0);
  EXPECT_EQ(c.Add("", -1), 0);
  EXPECT_EQ(c.size(), 0u);
}

TEST(FilterCountsTest, RemovingAnAbsentFilterLeavesNothingBehind) {
  FilterCounts c;
  EXPECT_EQ(c.Add("x", -1), -1);
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.Add("x", 1), 1);  // starts from zero again
}

TEST(FilterCountsTest, ManyFiltersSurviveRehashing) {
  FilterCounts c;
  for (int i = 0; i < 10000; ++i) c.Add("dev/" + std::to_string(i) + "/state/reported", 1 + i % 2);
  ASSERT_EQ(c.size(), 10000u);
  for (int i = 0; i < 10000; ++i) {
    ASSERT_EQ(c.Count("dev/" + std::to_string(i) + "/state/reported"), 1 + i % 2) << i;
  }
  for (int i = 0; i < 10000; i += 2) c.Add("dev/" + std::to_string(i) + "/state/reported", -1);
  EXPECT_EQ(c.size(), 5000u);
}

}  // namespace
}  // namespace meshmq::broker
