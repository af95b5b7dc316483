#include "auth/topic_filter.h"

#include <gtest/gtest.h>

namespace meshmq::auth {
namespace {

struct Case {
  const char* rule;
  const char* requested;
  bool covers;
};

TEST(FilterCoversTest, Table) {
  const Case cases[] = {
      {"a/#", "a/b/c", true},
      {"a/#", "a/+/c", true},
      {"a/#", "a", true},  // "#" includes the parent level [MQTT-4.7.1-2]
      {"a/#", "a/#", true},
      {"a/#", "b", false},
      {"a/+", "a/#", false},
      {"a/+", "a/b", true},
      {"a/+", "a/+", true},
      {"a/+", "a", false},
      {"a/+", "a/b/c", false},
      {"a/b", "a/+", false},
      {"a/b", "a/b", true},
      {"a/b", "a/b/", false},
      {"+/+", "/x", true},  // empty levels are levels
      {"+", "+", true},
      {"+", "#", false},
      {"#", "#", true},
      {"#", "+/x/#", true},
      {"#", "a/b", true},
      // Wildcards at the first level never match "$" topics [MQTT-4.7.2-1].
      {"#", "$SYS/#", false},
      {"#", "$SYS/broker/uptime", false},
      {"+/broker", "$SYS/broker", false},
      {"$SYS/#", "$SYS/broker/+", true},
      {"$SYS/#", "#", false},
      {"$SYS/+", "$SYS/x", true},
      {"a/+/c", "a/+/c", true},
      {"a/+/c", "a/b/#", false},
      {"a/+/#", "a/b", true},
      {"a/+/#", "a/#", false},  // "a/#" matches "a", which "a/+/#" does not
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FilterCovers(c.rule, c.requested), c.covers) << c.rule << " covers " << c.requested;
  }
}

TEST(FiltersOverlapTest, Table) {
  const Case cases[] = {
      {"a/+", "+/b", true},      {"a/#", "a", true},       {"a", "a/#", true},
      {"a/b", "a/c", false},     {"#", "$SYS/x", false},   {"$SYS/#", "#", false},
      {"#", "+", true},          {"+/+", "a", false},      {"secret/#", "#", true},
      {"secret/#", "+/x", true}, {"a/+/c", "a/b/#", true}, {"a/b/c", "a/b", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FiltersOverlap(c.rule, c.requested), c.covers) << c.rule << " vs " << c.requested;
    EXPECT_EQ(FiltersOverlap(c.requested, c.rule), c.covers) << "symmetric: " << c.rule;
  }
}

TEST(IsValidFilterTest, Syntax) {
  EXPECT_TRUE(IsValidFilter("a/b"));
  EXPECT_TRUE(IsValidFilter("#"));
  EXPECT_TRUE(IsValidFilter("+/+/#"));
  EXPECT_TRUE(IsValidFilter("/"));
  EXPECT_FALSE(IsValidFilter(""));
  EXPECT_FALSE(IsValidFilter("a/#/b"));
  EXPECT_FALSE(IsValidFilter("a#"));
  EXPECT_FALSE(IsValidFilter("a/b+"));
}

TEST(StripSharePrefixTest, StripsGroup) {
  EXPECT_EQ(StripSharePrefix("$share/g/a/b"), "a/b");
  EXPECT_EQ(StripSharePrefix("$share/g/#"), "#");
  EXPECT_EQ(StripSharePrefix("$SYS/x"), "$SYS/x");
  EXPECT_EQ(StripSharePrefix("a/b"), "a/b");
}

}  // namespace
}  // namespace meshmq::auth
