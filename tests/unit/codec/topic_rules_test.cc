// UTF-8, topic name, topic filter, shared subscription and matching rules.
#include "codec/topic_rules.h"

#include <gtest/gtest.h>

#include <string>

namespace meshmq::codec {
namespace {

TEST(TopicRules, Utf8) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain/ascii"));
  EXPECT_TRUE(IsValidUtf8("\xC3\xA9"));                       // é
  EXPECT_TRUE(IsValidUtf8("\xE2\x82\xAC"));                   // €
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));               // U+1F600
  EXPECT_TRUE(IsValidUtf8("\xEF\xBB\xBF"));                   // BOM is allowed
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));               // U+10FFFF
  EXPECT_FALSE(IsValidUtf8(std::string("a\0b", 3)));          // U+0000 [MQTT-1.5.4-2]
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));                  // U+D800 surrogate
  EXPECT_FALSE(IsValidUtf8("\xED\xBF\xBF"));                  // U+DFFF surrogate
  EXPECT_FALSE(IsValidUtf8("\xC0\x80"));                      // overlong NUL
  EXPECT_FALSE(IsValidUtf8("\xC1\xBF"));                      // overlong
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\x80"));                  // overlong 3-byte
  EXPECT_FALSE(IsValidUtf8("\xF0\x80\x80\x80"));              // overlong 4-byte
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));              // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xF5\x80\x80\x80"));              // invalid lead
  EXPECT_FALSE(IsValidUtf8("\x80"));                          // lone continuation
  EXPECT_FALSE(IsValidUtf8("\xC3"));                          // truncated
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));                      // truncated
  EXPECT_FALSE(IsValidUtf8("\xC3\x28"));                      // bad continuation
  EXPECT_FALSE(IsValidUtf8("\xFF"));
}

TEST(TopicRules, TopicNames) {
  EXPECT_TRUE(IsValidTopicName("a"));
  EXPECT_TRUE(IsValidTopicName("/"));
  EXPECT_TRUE(IsValidTopicName("a//b/"));
  EXPECT_TRUE(IsValidTopicName("$SYS/broker/uptime"));
  EXPECT_FALSE(IsValidTopicName(""));
  EXPECT_FALSE(IsValidTopicName("a/+"));
  EXPECT_FALSE(IsValidTopicName("a/#"));
  EXPECT_FALSE(IsValidTopicName("a+b"));
}

TEST(TopicRules, TopicFilters) {
  for (const char* ok : {"a", "#", "+", "a/#", "+/+", "a/+/c", "/", "a//b", "+/#", "$SYS/#",
                         "sport/tennis/+", "$share"}) {
    EXPECT_TRUE(IsValidTopicFilter(ok)) << ok;
  }
  for (const char* bad : {"", "a#", "a/#/b", "#/a", "a/b#", "a+", "a/+b", "++", "##"}) {
    EXPECT_FALSE(IsValidTopicFilter(bad)) << bad;
  }
}

TEST(TopicRules, SharedFilters) {
  EXPECT_TRUE(IsValidTopicFilter("$share/g/a/b"));
  EXPECT_TRUE(IsValidTopicFilter("$share/g/#"));
  EXPECT_TRUE(IsValidTopicFilter("$share/g/+/x"));
  EXPECT_FALSE(IsValidTopicFilter("$share//a"));     // empty group [MQTT-4.8.2-1]
  EXPECT_FALSE(IsValidTopicFilter("$share/g+/a"));   // wildcard in group [MQTT-4.8.2-2]
  EXPECT_FALSE(IsValidTopicFilter("$share/#/a"));
  EXPECT_FALSE(IsValidTopicFilter("$share/g"));      // no filter
  EXPECT_FALSE(IsValidTopicFilter("$share/g/"));     // empty filter
  EXPECT_FALSE(IsValidTopicFilter("$share/g/a/#/b"));

  std::string_view group;
  std::string_view inner;
  ASSERT_TRUE(ParseSharedFilter("$share/g/a/b", group, inner));
  EXPECT_EQ(group, "g");
  EXPECT_EQ(inner, "a/b");
  ASSERT_TRUE(ParseSharedFilter("$share/workers/$SYS/#", group, inner));
  EXPECT_EQ(group, "workers");
  EXPECT_EQ(inner, "$SYS/#");
  EXPECT_FALSE(ParseSharedFilter("a/b", group, inner));
  EXPECT_FALSE(ParseSharedFilter("$share", group, inner));
  EXPECT_FALSE(ParseSharedFilter("$share/g", group, inner));
  EXPECT_FALSE(ParseSharedFilter("$share//a", group, inner));
  EXPECT_FALSE(ParseSharedFilter("$shared/g/a", group, inner));
}

TEST(TopicRules, Matching) {
  struct Case {
    const char* filter;
    const char* topic;
    bool match;
  } cases[] = {
      {"a/b", "a/b", true},         {"a/b", "a/c", false},        {"a/b", "a/b/c", false},
      {"a/b/c", "a/b", false},      {"a/+", "a/b", true},         {"a/+", "a/b/c", false},
      {"a/+", "a", false},          {"a/+", "a/", true},          {"+/b", "a/b", true},
      {"+", "a", true},             {"+", "a/b", false},          {"+/+", "/b", true},
      {"#", "a/b/c", true},         {"#", "/", true},             {"a/#", "a", true},
      {"a/#", "a/b/c", true},       {"a/#", "ab", false},         {"a/#", "b/a", false},
      {"a/+/#", "a/b", true},       {"a/+/#", "a", false},        {"+/+/#", "a/b/c/d", true},
      {"sport/tennis/#", "sport/tennis", true},                   {"a/b/", "a/b", false},
      {"a/b", "a/b/", false},       {"/", "/", true},             {"/+", "/x", true},
      // [MQTT-4.7.2-1]: leading wildcards do not match '$' topics.
      {"#", "$SYS/uptime", false},  {"+/uptime", "$SYS/uptime", false},
      {"$SYS/#", "$SYS/uptime", true},                            {"$SYS/+", "$SYS/x", true},
      {"+/x", "a$/x", true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(TopicMatches(c.filter, c.topic), c.match) << c.filter << " vs " << c.topic;
  }
}

}  // namespace
}  // namespace meshmq::codec
