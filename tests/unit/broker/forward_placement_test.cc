#include "broker/forward_placement.h"

#include <gtest/gtest.h>

namespace meshmq::broker {
namespace {

TEST(ForwardPlacementTest, PicksByHashUntilAProposalIsApplied) {
  ForwardPlacement p;
  EXPECT_EQ(p.ShardFor(7, 2), 1u);
  EXPECT_EQ(p.ShardFor(8, 2), 0u);
  p.Propose({{7, 0}});
  EXPECT_EQ(p.ShardFor(7, 2), 1u);  // proposed, not applied
  EXPECT_EQ(p.ApplyIfIdle(), 1u);
  EXPECT_EQ(p.ShardFor(7, 2), 0u);
  EXPECT_TRUE(p.Places(7, 0));
  EXPECT_EQ(p.ShardFor(8, 2), 0u);  // other slots untouched
}

TEST(ForwardPlacementTest, ProposalsWaitUntilNoPartIsOutstanding) {
  ForwardPlacement p;
  p.PartPosted();
  p.Propose({{5, 0}});
  EXPECT_EQ(p.ApplyIfIdle(), 0u);  // a part posted by the old placement is still routing
  EXPECT_EQ(p.ShardFor(5, 2), 1u);
  p.PartDone();
  EXPECT_EQ(p.ApplyIfIdle(), 1u);
  EXPECT_EQ(p.ShardFor(5, 2), 0u);
}

TEST(ForwardPlacementTest, AHintBeyondTheShardCountFallsBackToTheHash) {
  ForwardPlacement p;
  p.Propose({{9, 3}});
  p.ApplyIfIdle();
  EXPECT_EQ(p.ShardFor(9, 4), 3u);
  EXPECT_EQ(p.ShardFor(9, 2), 1u);  // fewer shards than when it was learnt
}

}  // namespace
}  // namespace meshmq::broker
