#include "discovery/peer_set.h"

#include <gtest/gtest.h>

namespace meshmq::discovery {
namespace {

TEST(PeerSetTest, NormalizeSortsByHostThenPortAndDropsDuplicates) {
  PeerSet peers = {{"b", 2}, {"a", 9}, {"b", 1}, {"a", 9}, {"::1", 5}};
  NormalizePeers(peers);
  EXPECT_EQ(peers, (PeerSet{{"::1", 5}, {"a", 9}, {"b", 1}, {"b", 2}}));
}

TEST(PeerSetTest, FormatBracketsIpv6) {
  EXPECT_EQ(FormatPeer({"10.0.0.1", 8081}), "10.0.0.1:8081");
  EXPECT_EQ(FormatPeer({"fd00::1", 8081}), "[fd00::1]:8081");
  EXPECT_EQ(FormatPeers({{"a", 1}, {"b", 2}}), "a:1,b:2");
  EXPECT_EQ(FormatPeers({}), "(none)");
}

}  // namespace
}  // namespace meshmq::discovery
