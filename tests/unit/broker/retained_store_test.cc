#include "broker/retained_store.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meshmq::broker {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

MessagePtr Msg(std::string topic, std::string payload,
               std::optional<int64_t> expiry_at_ms = std::nullopt) {
  auto m = std::make_shared<Message>();
  m->topic = std::move(topic);
  m->payload = codec::SharedBytes(std::move(payload));
  m->retain = true;
  m->expiry_at_ms = expiry_at_ms;
  return m;
}

std::vector<std::string> Topics(const std::vector<MessagePtr>& msgs) {
  std::vector<std::string> out;
  for (const auto& m : msgs) out.push_back(m->topic);
  return out;
}

std::vector<std::string> MatchTopics(const RetainedStore& store, std::string_view filter) {
  std::vector<std::string> out = Topics(store.Match(filter));
  std::sort(out.begin(), out.end());
  return out;
}

// A store whose clock the test controls.
struct ClockedStore {
  explicit ClockedStore(std::size_t max_messages = 0)
      : store(RetainedStore::Options{max_messages, [this] { return now.load(); }}) {}
  std::atomic<int64_t> now{1000};
  RetainedStore store;
};

TEST(RetainedStoreTest, SetGetReplace) {
  RetainedStore store;
  EXPECT_EQ(store.Get("a/b"), nullptr);
  EXPECT_TRUE(store.Set(Msg("a/b", "one")));
  ASSERT_NE(store.Get("a/b"), nullptr);
  EXPECT_EQ(store.Get("a/b")->payload.view(), "one");
  EXPECT_EQ(store.Get("a"), nullptr);  // intermediate level holds nothing
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.Bytes(), 3u + 3u);

  // Replacement keeps one message per topic [MQTT-3.3.1-5].
  EXPECT_TRUE(store.Set(Msg("a/b", "three")));
  EXPECT_EQ(store.Get("a/b")->payload.view(), "three");
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.Bytes(), 3u + 5u);

  EXPECT_TRUE(store.Set(Msg("a", "x")));
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.Get("a")->payload.view(), "x");
  EXPECT_FALSE(store.Set(nullptr));
}

TEST(RetainedStoreTest, EmptyPayloadDeletes) {
  RetainedStore store;
  // Deleting an absent topic changes nothing and stores nothing [MQTT-3.3.1-7].
  EXPECT_FALSE(store.Set(Msg("a/b", "")));
  EXPECT_EQ(store.size(), 0u);
  EXPECT_THAT(MatchTopics(store, "#"), IsEmpty());

  ASSERT_TRUE(store.Set(Msg("a/b", "v")));
  ASSERT_TRUE(store.Set(Msg("a/b/c", "w")));
  EXPECT_TRUE(store.Set(Msg("a/b", "")));  // [MQTT-3.3.1-6]
  EXPECT_EQ(store.Get("a/b"), nullptr);
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.Bytes(), 5u + 1u);
  EXPECT_THAT(MatchTopics(store, "#"), ElementsAre("a/b/c"));  // the child survives
}

TEST(RetainedStoreTest, RemoveAndPrune) {
  RetainedStore store;
  ASSERT_TRUE(store.Set(Msg("a/b/c", "1")));
  ASSERT_TRUE(store.Set(Msg("a/b", "2")));
  EXPECT_FALSE(store.Remove("a"));
  EXPECT_FALSE(store.Remove("a/b/c/d"));
  EXPECT_TRUE(store.Remove("a/b/c"));
  EXPECT_FALSE(store.Remove("a/b/c"));
  EXPECT_THAT(MatchTopics(store, "#"), ElementsAre("a/b"));
  EXPECT_THAT(MatchTopics(store, "a/b/+"), IsEmpty());
  EXPECT_TRUE(store.Remove("a/b"));
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(store.Bytes(), 0u);
  EXPECT_THAT(MatchTopics(store, "#"), IsEmpty());
  ASSERT_TRUE(store.Set(Msg("a/b/c", "again")));
  EXPECT_THAT(MatchTopics(store, "a/+/c"), ElementsAre("a/b/c"));
}

RetainedStore& Populate(RetainedStore& store) {
  for (const char* t : {"sport/tennis/player1", "sport/tennis/player1/ranking",
                        "sport/tennis/player1/score/wimbledon", "sport/tennis/player2", "sport",
                        "sport/", "/finance", "$SYS/monitor/Clients", "$SYS", "a//b", "a/$x"}) {
    EXPECT_TRUE(store.Set(Msg(t, "p")));
  }
  return store;
}

TEST(RetainedStoreTest, MatchWildcardsPerSpec) {
  RetainedStore store;
  Populate(store);
  EXPECT_THAT(MatchTopics(store, "sport/tennis/player1/#"),
              ElementsAre("sport/tennis/player1", "sport/tennis/player1/ranking",
                          "sport/tennis/player1/score/wimbledon"));
  EXPECT_THAT(MatchTopics(store, "sport/#"),
              ElementsAre("sport", "sport/", "sport/tennis/player1", "sport/tennis/player1/ranking",
                          "sport/tennis/player1/score/wimbledon", "sport/tennis/player2"));
  EXPECT_THAT(MatchTopics(store, "sport/tennis/+"),
              ElementsAre("sport/tennis/player1", "sport/tennis/player2"));
  EXPECT_THAT(MatchTopics(store, "sport/+"), ElementsAre("sport/"));
  EXPECT_THAT(MatchTopics(store, "+"), ElementsAre("sport"));
  EXPECT_THAT(MatchTopics(store, "+/+"), ElementsAre("/finance", "a/$x", "sport/"));
  EXPECT_THAT(MatchTopics(store, "/+"), ElementsAre("/finance"));
  EXPECT_THAT(MatchTopics(store, "a/+/b"), ElementsAre("a//b"));
  EXPECT_THAT(MatchTopics(store, "sport/tennis/player1"), ElementsAre("sport/tennis/player1"));
  EXPECT_THAT(MatchTopics(store, "sport/tennis/player3"), IsEmpty());
}

TEST(RetainedStoreTest, DollarTopicsOnlyForExplicitFilters) {
  RetainedStore store;
  Populate(store);
  std::vector<std::string> all = MatchTopics(store, "#");
  EXPECT_EQ(all.size(), 9u);  // everything except the two $SYS topics [MQTT-4.7.2-1]
  EXPECT_EQ(std::count(all.begin(), all.end(), "$SYS"), 0);
  EXPECT_THAT(MatchTopics(store, "+/monitor/Clients"), IsEmpty());
  EXPECT_THAT(MatchTopics(store, "$SYS/#"), ElementsAre("$SYS", "$SYS/monitor/Clients"));
  EXPECT_THAT(MatchTopics(store, "$SYS/monitor/+"), ElementsAre("$SYS/monitor/Clients"));
  EXPECT_THAT(MatchTopics(store, "a/+"), ElementsAre("a/$x"));  // '$' below level one is plain
}

TEST(RetainedStoreTest, MatchCallbackMayReenterStore) {
  RetainedStore store;
  ASSERT_TRUE(store.Set(Msg("a/1", "x")));
  ASSERT_TRUE(store.Set(Msg("a/2", "y")));
  int calls = 0;
  // fn runs outside the lock: removing from inside it must not deadlock.
  store.Match("a/+", [&](const MessagePtr& m) {
    ++calls;
    EXPECT_TRUE(store.Remove(m->topic));
  });
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(store.size(), 0u);
}

TEST(RetainedStoreTest, ExpiredMessagesHiddenThenPurged) {
  ClockedStore cs;
  RetainedStore& store = cs.store;
  ASSERT_TRUE(store.Set(Msg("t/soon", "a", 1500)));
  ASSERT_TRUE(store.Set(Msg("t/later", "b", 3000)));
  ASSERT_TRUE(store.Set(Msg("t/never", "c")));
  EXPECT_THAT(MatchTopics(store, "t/#"), ElementsAre("t/later", "t/never", "t/soon"));

  cs.now = 1500;  // expiry_at_ms < now means expired; equal is still live
  EXPECT_NE(store.Get("t/soon"), nullptr);
  cs.now = 1501;
  EXPECT_EQ(store.Get("t/soon"), nullptr);
  EXPECT_THAT(MatchTopics(store, "t/#"), ElementsAre("t/later", "t/never"));
  EXPECT_THAT(MatchTopics(store, "t/soon"), IsEmpty());
  EXPECT_THAT(Topics(store.List("", 0, 10)), ElementsAre("t/later", "t/never"));
  EXPECT_EQ(store.size(), 3u);  // hidden, not yet purged

  EXPECT_EQ(store.PurgeExpired(1501), 1u);
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.Bytes(), (7u + 1u) + (7u + 1u));
  EXPECT_EQ(store.PurgeExpired(1501), 0u);
  EXPECT_EQ(store.PurgeExpired(5000), 1u);
  EXPECT_THAT(MatchTopics(store, "#"), ElementsAre("t/never"));
  // Replacing an expired message makes the topic visible again.
  ASSERT_TRUE(store.Set(Msg("t/soon", "d", 9000)));
  EXPECT_EQ(store.Get("t/soon")->payload.view(), "d");
}

TEST(RetainedStoreTest, MaxMessagesLimit) {
  ClockedStore cs(2);
  RetainedStore& store = cs.store;
  ASSERT_TRUE(store.Set(Msg("a", "1")));
  ASSERT_TRUE(store.Set(Msg("b", "2")));
  EXPECT_FALSE(store.Set(Msg("c/d", "3")));  // a new topic beyond the limit
  EXPECT_EQ(store.Get("c/d"), nullptr);
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.Bytes(), 4u);
  EXPECT_THAT(MatchTopics(store, "#"), ElementsAre("a", "b"));
  EXPECT_TRUE(store.Set(Msg("a", "replaced")));  // replacing is still allowed
  EXPECT_EQ(store.Get("a")->payload.view(), "replaced");
  EXPECT_TRUE(store.Set(Msg("b", "")));  // deleting frees a slot
  EXPECT_TRUE(store.Set(Msg("c/d", "3")));
  EXPECT_EQ(store.size(), 2u);
}

TEST(RetainedStoreTest, ListSortedPrefixAndPagination) {
  RetainedStore store;
  std::vector<std::string> topics = {"b/1", "a/b", "a-b", "a", "a/b/c", "ab", "c", "a/", "$SYS/x"};
  for (const auto& t : topics) ASSERT_TRUE(store.Set(Msg(t, "v")));
  std::vector<std::string> sorted = topics;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(Topics(store.List("", 0, 100)), sorted);  // admin listing includes $ topics

  EXPECT_THAT(Topics(store.List("a", 0, 100)),
              ElementsAre("a", "a-b", "a/", "a/b", "a/b/c", "ab"));
  EXPECT_THAT(Topics(store.List("a/", 0, 100)), ElementsAre("a/", "a/b", "a/b/c"));
  EXPECT_THAT(Topics(store.List("a/b", 0, 100)), ElementsAre("a/b", "a/b/c"));
  EXPECT_THAT(Topics(store.List("a/b/", 0, 100)), ElementsAre("a/b/c"));
  EXPECT_THAT(Topics(store.List("zz", 0, 100)), IsEmpty());
  EXPECT_THAT(Topics(store.List("q/r/s", 0, 100)), IsEmpty());

  // Pages of 4 over the 9 sorted topics cover each exactly once.
  std::vector<std::string> paged;
  for (std::size_t off = 0; off < 12; off += 4) {
    std::vector<std::string> page = Topics(store.List("", off, 4));
    EXPECT_LE(page.size(), 4u);
    paged.insert(paged.end(), page.begin(), page.end());
  }
  EXPECT_EQ(paged, sorted);
  EXPECT_THAT(Topics(store.List("", 9, 4)), IsEmpty());
  EXPECT_THAT(Topics(store.List("", 100, 4)), IsEmpty());
  EXPECT_THAT(Topics(store.List("", 0, 0)), IsEmpty());
  EXPECT_EQ(Topics(store.List("", 2, SIZE_MAX)),
            std::vector<std::string>(sorted.begin() + 2, sorted.end()));
}

// Brute-force reference: spec 4.7 straight from the text.
bool BruteMatch(std::string_view filter, std::string_view topic) {
  auto split = [](std::string_view s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t slash; (slash = s.find('/', start)) != std::string_view::npos;) {
      out.emplace_back(s.substr(start, slash - start));
      start = slash + 1;
    }
    out.emplace_back(s.substr(start));
    return out;
  };
  std::vector<std::string> f = split(filter), t = split(topic);
  if (topic[0] == '$' && (f[0] == "+" || f[0] == "#")) return false;
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] == "#") return true;
    if (i >= t.size() || (f[i] != "+" && f[i] != t[i])) return false;
  }
  return f.size() == t.size();
}

std::string RandomPath(std::mt19937& rng, bool filter) {
  static const char* kLevels[] = {"a", "b", "", "$x", "+", "#"};
  int n = std::uniform_int_distribution<int>(1, 4)(rng);
  std::string out;
  for (int i = 0; i < n; ++i) {
    std::string level = kLevels[std::uniform_int_distribution<int>(0, filter ? 5 : 3)(rng)];
    if (level == "#" && i != n - 1) level = "+";
    if (i > 0) out += '/';
    out += level;
  }
  return out;
}

TEST(RetainedStoreTest, RandomizedDifferentialAgainstBruteForce) {
  std::mt19937 rng(777);
  RetainedStore store;
  std::map<std::string, std::string> ref;
  int matched = 0;
  for (int round = 0; round < 30; ++round) {
    for (int i = 0; i < 40; ++i) {
      std::string topic = RandomPath(rng, false);
      bool erase = std::uniform_int_distribution<int>(0, 3)(rng) == 0;
      std::string payload = erase ? "" : std::to_string(i);
      bool changed = erase ? ref.erase(topic) == 1 : true;
      if (!erase) ref[topic] = payload;
      EXPECT_EQ(store.Set(Msg(topic, payload)), changed) << topic;
    }
    ASSERT_EQ(store.size(), ref.size());
    for (int i = 0; i < 60; ++i) {
      std::string filter = RandomPath(rng, true);
      std::vector<std::string> expected;
      for (const auto& [t, p] : ref) {
        if (BruteMatch(filter, t)) expected.push_back(t);
      }
      matched += static_cast<int>(expected.size());
      ASSERT_EQ(MatchTopics(store, filter), expected) << "filter=" << filter;
    }
  }
  EXPECT_GT(matched, 500);
}

TEST(RetainedStoreTest, ConcurrentSetMatchStaysConsistent) {
  RetainedStore store;
  constexpr int kWriters = 3;
  constexpr int kTopicsPerWriter = 200;
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&store, w] {
      for (int round = 0; round < 19; ++round) {  // rounds 3, 7, 11, 15 delete; 18 stores
        for (int i = 0; i < kTopicsPerWriter; ++i) {
          std::string topic = "w" + std::to_string(w) + "/t/" + std::to_string(i);
          // Payload names its topic so readers can check they never see a torn pairing.
          store.Set(Msg(topic, round % 4 == 3 ? "" : topic));
        }
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        for (const MessagePtr& m : store.Match("+/t/#")) {
          if (m->payload.view() != m->topic || m->topic.rfind("/t/") == std::string::npos) ++bad;
        }
        if (store.Match("w0/t/+").size() > kTopicsPerWriter) ++bad;
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  stop = true;
  for (std::size_t i = kWriters; i < threads.size(); ++i) threads[i].join();
  EXPECT_EQ(bad.load(), 0);
  // Every writer's last round stored all its topics, each payload equal to its topic.
  EXPECT_EQ(store.size(), static_cast<std::size_t>(kWriters * kTopicsPerWriter));
  std::size_t bytes = 0;
  for (const MessagePtr& m : store.Match("#")) {
    EXPECT_EQ(m->payload.view(), m->topic);
    bytes += 2 * m->topic.size();
  }
  EXPECT_EQ(store.Bytes(), bytes);
  EXPECT_EQ(store.Match("w1/t/+").size(), static_cast<std::size_t>(kTopicsPerWriter));
}

}  // namespace
}  // namespace meshmq::broker
