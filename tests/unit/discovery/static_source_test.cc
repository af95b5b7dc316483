#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "discovery/peer_source.h"

namespace meshmq::discovery {
namespace {

TEST(StaticSourceTest, ReportsSortedDistinctSetOnceFromItsOwnThread) {
  auto source = MakeStaticSource({{"node-b", 8081}, {"node-a", 8081}, {"node-b", 8081}});
  std::mutex mu;
  std::vector<PeerSet> reports;
  std::thread::id caller = std::this_thread::get_id(), reporter;
  source->Start([&](const PeerSet& peers) {
    std::lock_guard<std::mutex> lock(mu);
    reports.push_back(peers);
    reporter = std::this_thread::get_id();
  });
  source->Stop();  // joins: the report has happened
  source->Stop();  // second Stop is a no-op
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0], (PeerSet{{"node-a", 8081}, {"node-b", 8081}}));
  EXPECT_NE(reporter, caller);
  EXPECT_EQ(source->lookups(), 1u);
  EXPECT_EQ(source->lookup_errors(), 0u);
}

TEST(StaticSourceTest, EmptyListIsReportedToo) {
  auto source = MakeStaticSource({});
  int calls = 0;
  source->Start([&](const PeerSet& peers) {
    ++calls;
    EXPECT_TRUE(peers.empty());
  });
  source.reset();  // the destructor stops and joins
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace meshmq::discovery
