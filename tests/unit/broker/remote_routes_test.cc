// Routes of other nodes on a publishing shard: exact filters in the hash index (node_exact_),
// wildcards in the trie; either way one forward per interested node, and none once the node's
// route or the node is gone.
#include <algorithm>
#include <string>
#include <vector>

#include "broker/cluster_port.h"
#include "broker_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meshmq::broker::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

// Records the node of every forward (inline mode: all calls from the test thread).
class RecordingCluster : public ClusterPort {
 public:
  void AddLocalRoute(const std::string&) override {}
  void RemoveLocalRoute(const std::string&) override {}
  void Forward(const std::string& node, MessagePtr, bool to_subscribers, std::vector<std::string>,
               std::function<void(bool)> on_queued) override {
    if (to_subscribers) nodes.push_back(node);
    if (on_queued) on_queued(true);
  }
  void ForwardToSession(const std::string&, MessagePtr, SessionTarget,
                        std::function<void(bool)> on_queued) override {
    if (on_queued) on_queued(true);
  }
  void PublishRetained(MessagePtr) override {}
  void ClientConnected(const std::string&, int64_t) override {}
  void ClientDisconnected(const std::string&) override {}
  void ClaimClientId(const std::string&,
                     std::function<void(std::optional<std::string>)> done) override {
    done(std::nullopt);
  }
  // The nodes the next publish goes to.
  std::vector<std::string> Take() {
    std::vector<std::string> out;
    out.swap(nodes);
    return out;
  }
  std::vector<std::string> nodes;
};

// An inline broker (two shards, the exact index per shard is what is tested) with the recording
// cluster and a connected publisher on shard 0.
class RemoteRoutesTest : public ::testing::Test {
 protected:
  RemoteRoutesTest() { broker.set_cluster(&cluster); }
  void SetUp() override { ASSERT_TRUE(Connect(pub, "pub")); }
  Broker broker{InlineOptions(2)};
  RecordingCluster cluster;
  TestConn pub{broker, 0, ProtocolVersion::kV311};
};

TEST_F(RemoteRoutesTest, ExactAndWildcardRoutesOfOtherNodesForwardOncePerNode) {
  uint16_t id = 1;
  auto publish = [&](const std::string& topic) {
    pub.Write(MakePublish(topic, "m", 1, id++));
    Settle(broker);
    return cluster.Take();
  };
  broker.RemoteRoutesChanged("nodeB", {"x/exact"}, {});
  broker.RemoteRoutesChanged("nodeC", {"x/exact", "x/+"}, {});  // both match: still one forward
  Settle(broker);
  EXPECT_THAT(publish("x/exact"), UnorderedElementsAre("nodeB", "nodeC"));
  EXPECT_THAT(publish("x/other"), ElementsAre("nodeC"));
  EXPECT_THAT(publish("y/exact"), ElementsAre());

  broker.RemoteRoutesChanged("nodeB", {}, {"x/exact"});
  broker.RemoteRoutesChanged("nodeB", {"x/exact"}, {});  // again, then a repeat (snapshot)
  broker.RemoteRoutesChanged("nodeB", {"x/exact"}, {});
  broker.RemoteRoutesChanged("nodeB", {}, {"x/exact"});  // one removal ends it
  Settle(broker);
  EXPECT_THAT(publish("x/exact"), ElementsAre("nodeC"));

  broker.NodeDown("nodeC");
  Settle(broker);
  EXPECT_THAT(publish("x/exact"), ElementsAre());
  EXPECT_THAT(publish("x/other"), ElementsAre());

  // A node that comes back later gets a (possibly reused) slot and its routes work again.
  broker.RemoteRoutesChanged("nodeD", {"x/exact"}, {});
  broker.RemoteRoutesChanged("nodeC", {"x/exact"}, {});
  Settle(broker);
  EXPECT_THAT(publish("x/exact"), UnorderedElementsAre("nodeC", "nodeD"));
}

// More nodes than the exact index has slots: the rest keep their exact filters in the trie.
TEST_F(RemoteRoutesTest, NodesBeyondTheIndexSlotsStillGetTheirMessages) {
  std::vector<std::string> all;
  for (int i = 0; i < 70; ++i) {
    all.push_back("node" + std::to_string(i));
    broker.RemoteRoutesChanged(all.back(), {"z/t"}, {});
  }
  Settle(broker);
  pub.Write(MakePublish("z/t", "m", 1, 1));
  Settle(broker);
  std::vector<std::string> got = cluster.Take();
  std::sort(got.begin(), got.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(got, all);
  for (const std::string& node : all) broker.RemoteRoutesChanged(node, {}, {"z/t"});
  Settle(broker);
  pub.Write(MakePublish("z/t", "m", 1, 2));
  Settle(broker);
  EXPECT_THAT(cluster.Take(), ElementsAre());
}

}  // namespace
}  // namespace meshmq::broker::testing
