#include "broker/filter_trie.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meshmq::broker {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;

std::vector<std::string> Split(std::string_view s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    std::size_t slash = s.find('/', start);
    if (slash == std::string_view::npos) {
      out.emplace_back(s.substr(start));
      return out;
    }
    out.emplace_back(s.substr(start, slash - start));
    start = slash + 1;
  }
}

// Reference matcher written straight from spec 4.7, independent of the trie.
bool BruteMatch(std::string_view filter, std::string_view topic) {
  std::vector<std::string> f = Split(filter);
  std::vector<std::string> t = Split(topic);
  if (!topic.empty() && topic[0] == '$' && (f[0] == "+" || f[0] == "#")) return false;
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] == "#") return true;  // matches the parent too: t.size() == i is fine
    if (i >= t.size()) return false;
    if (f[i] != "+" && f[i] != t[i]) return false;
  }
  return f.size() == t.size();
}

// Filters matching `topic`, as reported by Match with the (filter, value) callback.
std::vector<std::string> Matches(const FilterTrie<int>& trie, std::string_view topic) {
  std::vector<std::string> out;
  trie.Match(topic, [&out](std::string_view filter, const int&) { out.emplace_back(filter); });
  std::sort(out.begin(), out.end());
  return out;
}

FilterTrie<int> TrieOf(const std::vector<std::string>& filters) {
  FilterTrie<int> trie;
  for (const auto& f : filters) trie.GetOrCreate(f) = 1;
  return trie;
}

TEST(FilterTrieTest, GetOrCreateFindAndSize) {
  FilterTrie<int> trie;
  EXPECT_TRUE(trie.empty());
  EXPECT_EQ(trie.Find("a/b"), nullptr);
  trie.GetOrCreate("a/b") = 7;
  trie.GetOrCreate("a/+") = 8;
  EXPECT_EQ(trie.size(), 2u);
  ASSERT_NE(trie.Find("a/b"), nullptr);
  EXPECT_EQ(*trie.Find("a/b"), 7);
  EXPECT_EQ(*trie.Find("a/+"), 8);
  EXPECT_EQ(trie.Find("a"), nullptr);  // intermediate node holds no value
  EXPECT_EQ(trie.Find("a/#"), nullptr);
  // A second GetOrCreate returns the same value and does not grow the trie.
  EXPECT_EQ(&trie.GetOrCreate("a/b"), trie.Find("a/b"));
  EXPECT_EQ(trie.GetOrCreate("a/b"), 7);
  EXPECT_EQ(trie.size(), 2u);
}

TEST(FilterTrieTest, ValueReferenceSurvivesGrowth) {
  FilterTrie<int> trie;
  int& v = trie.GetOrCreate("x");
  v = 42;
  for (int i = 0; i < 1000; ++i) trie.GetOrCreate("x" + std::to_string(i));
  EXPECT_EQ(&v, trie.Find("x"));
  EXPECT_EQ(v, 42);
}

// Spec 4.7.1.2 non-normative examples for '#'.
TEST(FilterTrieTest, SpecMultiLevelWildcardExamples) {
  FilterTrie<int> trie = TrieOf({"sport/tennis/player1/#"});
  EXPECT_THAT(Matches(trie, "sport/tennis/player1"), ElementsAre("sport/tennis/player1/#"));
  EXPECT_THAT(Matches(trie, "sport/tennis/player1/ranking"), ElementsAre("sport/tennis/player1/#"));
  EXPECT_THAT(Matches(trie, "sport/tennis/player1/score/wimbledon"),
              ElementsAre("sport/tennis/player1/#"));
  EXPECT_THAT(Matches(trie, "sport/tennis/player2"), IsEmpty());
  EXPECT_THAT(Matches(trie, "sport/tennis"), IsEmpty());

  FilterTrie<int> sport = TrieOf({"sport/#"});
  EXPECT_THAT(Matches(sport, "sport"), ElementsAre("sport/#"));  // "sport/#" matches "sport"
  EXPECT_THAT(Matches(sport, "sport/"), ElementsAre("sport/#"));
  EXPECT_THAT(Matches(sport, "sports"), IsEmpty());

  FilterTrie<int> all = TrieOf({"#"});
  EXPECT_THAT(Matches(all, "a"), ElementsAre("#"));
  EXPECT_THAT(Matches(all, "/"), ElementsAre("#"));
  EXPECT_THAT(Matches(all, "a/b/c/d"), ElementsAre("#"));
}

// Spec 4.7.1.3 non-normative examples for '+'.
TEST(FilterTrieTest, SpecSingleLevelWildcardExamples) {
  FilterTrie<int> trie = TrieOf({"sport/tennis/+"});
  EXPECT_THAT(Matches(trie, "sport/tennis/player1"), ElementsAre("sport/tennis/+"));
  EXPECT_THAT(Matches(trie, "sport/tennis/player2"), ElementsAre("sport/tennis/+"));
  EXPECT_THAT(Matches(trie, "sport/tennis/player1/ranking"), IsEmpty());

  FilterTrie<int> sport = TrieOf({"sport/+"});
  EXPECT_THAT(Matches(sport, "sport"), IsEmpty());
  EXPECT_THAT(Matches(sport, "sport/"), ElementsAre("sport/+"));  // empty level matches '+'

  FilterTrie<int> plus = TrieOf({"+", "+/+", "/+", "+/tennis/#"});
  EXPECT_THAT(Matches(plus, "sport"), ElementsAre("+"));
  EXPECT_THAT(Matches(plus, "/finance"), ElementsAre("+/+", "/+"));
  EXPECT_THAT(Matches(plus, "sport/tennis"), ElementsAre("+/+", "+/tennis/#"));
  EXPECT_THAT(Matches(plus, "sport/tennis/x"), ElementsAre("+/tennis/#"));
}

// [MQTT-4.7.2-1] and spec 4.7.2 examples.
TEST(FilterTrieTest, DollarTopicsNotMatchedByLeadingWildcard) {
  FilterTrie<int> trie =
      TrieOf({"#", "+/monitor/Clients", "$SYS/#", "$SYS/monitor/+", "+", "+/#", "a/$b"});
  EXPECT_THAT(Matches(trie, "$SYS/monitor/Clients"), ElementsAre("$SYS/#", "$SYS/monitor/+"));
  EXPECT_THAT(Matches(trie, "$SYS"), ElementsAre("$SYS/#"));
  EXPECT_THAT(Matches(trie, "$"), IsEmpty());
  EXPECT_THAT(Matches(trie, "SYS/monitor/Clients"),
              ElementsAre("#", "+/#", "+/monitor/Clients"));
  // '$' only matters in the first level.
  EXPECT_THAT(Matches(trie, "a/$b"), ElementsAre("#", "+/#", "a/$b"));
}

TEST(FilterTrieTest, EmptyLevelsAreLevels) {
  FilterTrie<int> trie = TrieOf({"a//b", "/a", "a/+/b", "+/a", "/", "+/+", "//"});
  EXPECT_THAT(Matches(trie, "a//b"), ElementsAre("a/+/b", "a//b"));
  EXPECT_THAT(Matches(trie, "a/b"), ElementsAre("+/+"));
  EXPECT_THAT(Matches(trie, "/a"), ElementsAre("+/+", "+/a", "/a"));
  EXPECT_THAT(Matches(trie, "/"), ElementsAre("+/+", "/"));
  EXPECT_THAT(Matches(trie, "//"), ElementsAre("//"));
  EXPECT_THAT(Matches(trie, "a"), IsEmpty());
}

TEST(FilterTrieTest, WildcardsAreLiteralWhenNotAloneInLevel) {
  // Such filters are invalid and rejected upstream; the trie must still not treat them as
  // wildcards.
  FilterTrie<int> trie = TrieOf({"a+", "a/b#"});
  EXPECT_THAT(Matches(trie, "ab"), IsEmpty());
  EXPECT_THAT(Matches(trie, "a+"), ElementsAre("a+"));
  EXPECT_THAT(Matches(trie, "a/bc"), IsEmpty());
}

TEST(FilterTrieTest, EraseRemovesAndPrunes) {
  FilterTrie<int> trie = TrieOf({"a/b/c", "a/b", "a/+/c", "a/#", "#"});
  EXPECT_EQ(trie.size(), 5u);
  EXPECT_FALSE(trie.Erase("a"));        // intermediate node, no value
  EXPECT_FALSE(trie.Erase("a/b/c/d"));  // absent
  EXPECT_EQ(trie.size(), 5u);

  EXPECT_TRUE(trie.Erase("a/b/c"));
  EXPECT_FALSE(trie.Erase("a/b/c"));
  EXPECT_EQ(trie.size(), 4u);
  EXPECT_EQ(trie.Find("a/b/c"), nullptr);
  EXPECT_THAT(Matches(trie, "a/b/c"), ElementsAre("#", "a/#", "a/+/c"));
  ASSERT_NE(trie.Find("a/b"), nullptr);  // the parent's value survives the prune

  EXPECT_TRUE(trie.Erase("a/#"));
  EXPECT_TRUE(trie.Erase("a/+/c"));
  EXPECT_THAT(Matches(trie, "a/b/c"), ElementsAre("#"));
  EXPECT_THAT(Matches(trie, "a/b"), ElementsAre("#", "a/b"));
  EXPECT_TRUE(trie.Erase("#"));
  EXPECT_TRUE(trie.Erase("a/b"));
  EXPECT_TRUE(trie.empty());
  EXPECT_THAT(Matches(trie, "a/b"), IsEmpty());

  // Reinsert after a full prune works from a clean root.
  trie.GetOrCreate("a/b/c") = 3;
  EXPECT_THAT(Matches(trie, "a/b/c"), ElementsAre("a/b/c"));
  EXPECT_EQ(*trie.Find("a/b/c"), 3);
}

TEST(FilterTrieTest, EraseLeafKeepsSiblings) {
  FilterTrie<int> trie = TrieOf({"a/b/c", "a/b/d"});
  EXPECT_TRUE(trie.Erase("a/b/c"));
  EXPECT_THAT(Matches(trie, "a/b/d"), ElementsAre("a/b/d"));
  EXPECT_THAT(Matches(trie, "a/b/c"), IsEmpty());
}

TEST(FilterTrieTest, MutableMatchAndValueOnlyCallback) {
  FilterTrie<int> trie = TrieOf({"a/+", "a/#", "b"});
  trie.Match("a/x", [](int& v) { v += 10; });
  EXPECT_EQ(*trie.Find("a/+"), 11);
  EXPECT_EQ(*trie.Find("a/#"), 11);
  EXPECT_EQ(*trie.Find("b"), 1);

  const FilterTrie<int>& ctrie = trie;
  int sum = 0;
  ctrie.Match("a/x", [&sum](const int& v) { sum += v; });
  EXPECT_EQ(sum, 22);
}

TEST(FilterTrieTest, ForEachVisitsEveryFilterOnce) {
  std::vector<std::string> filters = {"#", "a", "a/+", "a/#", "/", "", "+/+/c", "$SYS/x"};
  FilterTrie<int> trie = TrieOf(filters);
  std::vector<std::string> seen;
  trie.ForEach([&seen](std::string_view f, int& v) {
    seen.emplace_back(f);
    v = 5;
  });
  EXPECT_THAT(seen, UnorderedElementsAreArray(filters));
  const FilterTrie<int>& ctrie = trie;
  int sum = 0;
  ctrie.ForEach([&sum](std::string_view, const int& v) { sum += v; });
  EXPECT_EQ(sum, 5 * static_cast<int>(filters.size()));
}

// Nodes keep no filter string: Match rebuilds it from the walked levels, lazily.
TEST(FilterTrieTest, MatchedFilterIsRebuiltFromTheWalk) {
  FilterTrie<int> trie = TrieOf({"#", "a/+/c", "+/b/#", "/+", "a//c", "a/b/c/#"});
  std::vector<std::string> got;
  trie.Match("a/b/c", [&got](const FilterTrie<int>::MatchedFilter& f, const int&) {
    got.emplace_back(f.str());
    EXPECT_EQ(f.str().data(), f.str().data());  // built once per match, then reused
  });
  EXPECT_THAT(got, UnorderedElementsAre("#", "a/+/c", "+/b/#", "a/b/c/#"));
  got.clear();
  trie.Match("/x", [&got](const FilterTrie<int>::MatchedFilter& f, const int&) {
    got.emplace_back(f.str());
  });
  EXPECT_THAT(got, UnorderedElementsAre("#", "/+"));
  // A callback that never asks pays nothing; one that asks for some matches only gets those.
  int asked = 0, seen = 0;
  trie.Match("a/b/c", [&](const FilterTrie<int>::MatchedFilter& f, int&) {
    if (++seen % 2 == 0) asked += !f.str().empty();
  });
  EXPECT_EQ(seen, 4);
  EXPECT_EQ(asked, 2);
}

TEST(FilterTrieTest, ClearAndMove) {
  FilterTrie<int> trie = TrieOf({"a", "b/#"});
  FilterTrie<int> moved = std::move(trie);
  EXPECT_EQ(moved.size(), 2u);
  EXPECT_THAT(Matches(moved, "b/c"), ElementsAre("b/#"));
  moved.Clear();
  EXPECT_TRUE(moved.empty());
  EXPECT_THAT(Matches(moved, "b/c"), IsEmpty());
}

TEST(FilterTrieTest, StructValue) {
  struct Subscribers {
    std::set<std::string> clients;
  };
  FilterTrie<Subscribers> trie;
  trie.GetOrCreate("a/+").clients.insert("c1");
  trie.GetOrCreate("a/+").clients.insert("c2");
  trie.GetOrCreate("#").clients.insert("c3");
  std::vector<std::string> got;
  trie.Match("a/b", [&got](const Subscribers& s) {
    got.insert(got.end(), s.clients.begin(), s.clients.end());
  });
  EXPECT_THAT(got, UnorderedElementsAre("c1", "c2", "c3"));
}

// Random filter built from a tiny alphabet so that collisions and wildcards are frequent.
std::string RandomFilter(std::mt19937& rng) {
  static const char* kLevels[] = {"a", "b", "", "$x", "+", "+", "#"};
  int n = std::uniform_int_distribution<int>(1, 4)(rng);
  std::string out;
  for (int i = 0; i < n; ++i) {
    std::string level = kLevels[std::uniform_int_distribution<int>(0, 6)(rng)];
    if (level == "#" && i != n - 1) level = "a";  // '#' only last
    if (i > 0) out += '/';
    out += level;
  }
  return out;
}

std::string RandomTopic(std::mt19937& rng) {
  static const char* kLevels[] = {"a", "b", "", "$x"};
  int n = std::uniform_int_distribution<int>(1, 5)(rng);
  std::string out;
  for (int i = 0; i < n; ++i) {
    if (i > 0) out += '/';
    out += kLevels[std::uniform_int_distribution<int>(0, 3)(rng)];
  }
  return out;
}

TEST(FilterTrieTest, RandomizedDifferentialAgainstBruteForce) {
  std::mt19937 rng(12345);
  FilterTrie<int> trie;
  std::set<std::string> stored;
  int checked_matches = 0;
  for (int round = 0; round < 40; ++round) {
    // Mix inserts and erases so pruning is exercised against the reference too.
    for (int i = 0; i < 60; ++i) {
      std::string f = RandomFilter(rng);
      if (std::uniform_int_distribution<int>(0, 3)(rng) == 0) {
        EXPECT_EQ(trie.Erase(f), stored.erase(f) == 1) << f;
      } else {
        trie.GetOrCreate(f) = 1;
        stored.insert(f);
      }
    }
    ASSERT_EQ(trie.size(), stored.size());
    for (int i = 0; i < 100; ++i) {
      std::string topic = RandomTopic(rng);
      std::vector<std::string> expected;
      for (const auto& f : stored) {
        if (BruteMatch(f, topic)) expected.push_back(f);
      }
      checked_matches += static_cast<int>(expected.size());
      ASSERT_EQ(Matches(trie, topic), expected) << "topic=" << topic;
    }
  }
  EXPECT_GT(checked_matches, 1000);  // the alphabet is small enough to produce real matches
}

TEST(FilterTrieTest, ReferenceMatcherAgreesWithSpecExamples) {
  // Guards the brute-force oracle itself.
  EXPECT_TRUE(BruteMatch("sport/#", "sport"));
  EXPECT_TRUE(BruteMatch("sport/+", "sport/"));
  EXPECT_FALSE(BruteMatch("sport/+", "sport"));
  EXPECT_FALSE(BruteMatch("#", "$SYS/a"));
  EXPECT_TRUE(BruteMatch("$SYS/#", "$SYS"));
  EXPECT_FALSE(BruteMatch("+/+", "a"));
}

TEST(FilterTrieTest, ManyFiltersMatchOnlyRelevantBranches) {
  // 100k literal filters plus a few wildcards: a topic finds exactly its own filter and the
  // wildcards, and 100k matches finish far inside the limit below, which a scan over all filters
  // (10^10 comparisons) could not.
  FilterTrie<int> trie;
  for (int i = 0; i < 100000; ++i) {
    trie.GetOrCreate("dev/" + std::to_string(i % 1000) + "/t/" + std::to_string(i)) = i;
  }
  trie.GetOrCreate("dev/+/t/#") = -1;
  trie.GetOrCreate("dev/7/+/77") = -2;
  EXPECT_EQ(trie.size(), 100002u);
  std::vector<int> got;
  trie.Match("dev/7/t/77", [&got](const int& v) { got.push_back(v); });
  EXPECT_THAT(got, UnorderedElementsAre(-1, -2));
  got.clear();
  trie.Match("dev/77/t/1077", [&got](const int& v) { got.push_back(v); });
  EXPECT_THAT(got, UnorderedElementsAre(-1, 1077));

  auto start = std::chrono::steady_clock::now();
  std::size_t hits = 0;
  for (int i = 0; i < 100000; ++i) {
    trie.Match("dev/" + std::to_string(i % 1000) + "/t/" + std::to_string(i),
               [&hits](const int&) { ++hits; });
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(hits, 200000u);  // its own filter and "dev/+/t/#"; "dev/7/+/77" never matches here
  EXPECT_LT(elapsed, std::chrono::seconds(10));
}

}  // namespace
}  // namespace meshmq::broker
