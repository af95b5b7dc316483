// The broker's calls into its StoragePort: which changes of a persistent session are written,
// that acknowledgements wait for the commit that holds them (group commit), and that Restore
// brings sessions back. A recording fake stands in for src/storage.
#include <map>
#include <string>
#include <vector>

#include "broker/storage_port.h"
#include "broker_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meshmq::broker::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Records every call, committed or still in a shard's batch.
class RecordingStore final : public StoragePort {
 public:
  void PutSession(int shard, const StoredSessionMeta& meta) override {
    Op(shard, "session+ " + meta.client_id);
  }
  void DeleteSession(int shard, const std::string& id) override { Op(shard, "session- " + id); }
  void PutSubscription(int shard, const std::string& id, const StoredSubscription& sub) override {
    Op(shard, "sub+ " + id + " " + sub.request.filter);
  }
  void DeleteSubscription(int shard, const std::string& id, const std::string& filter) override {
    Op(shard, "sub- " + id + " " + filter);
  }
  void PutMessage(int shard, const std::string& id, uint16_t packet_id, bool pubrec,
                  const Delivery& d) override {
    Op(shard, "msg+ " + id + " #" + std::to_string(d.store_seq) + " pid" +
                  std::to_string(packet_id) + (pubrec ? " rec" : ""));
  }
  void DeleteMessage(int shard, const std::string& id, uint64_t seq) override {
    Op(shard, "msg- " + id + " #" + std::to_string(seq));
  }
  void PutIncomingQos2(int shard, const std::string& id, uint16_t pid) override {
    Op(shard, "q2+ " + id + " " + std::to_string(pid));
  }
  void DeleteIncomingQos2(int shard, const std::string& id, uint16_t pid) override {
    Op(shard, "q2- " + id + " " + std::to_string(pid));
  }
  void PutRetained(int shard, const MessagePtr& msg) override { Op(shard, "ret+ " + msg->topic); }
  void DeleteRetained(int shard, const std::string& topic) override { Op(shard, "ret- " + topic); }
  bool Commit(int shard) override {
    auto& pending = pending_[shard];
    if (pending.empty()) return true;
    ++commits;
    committed.insert(committed.end(), pending.begin(), pending.end());
    pending.clear();
    return !fail;
  }
  bool HasPending(int shard) const override {
    auto it = pending_.find(shard);
    return it != pending_.end() && !it->second.empty();
  }
  absl::StatusOr<LoadedData> Load() override { return LoadedData{}; }

  std::vector<std::string> Take() { return std::exchange(committed, {}); }

  std::vector<std::string> committed;
  int commits = 0;
  bool fail = false;

 private:
  void Op(int shard, std::string what) {
    if (shard < 0) {
      committed.push_back(std::move(what));
    } else {
      pending_[shard].push_back(std::move(what));
    }
  }
  std::map<int, std::vector<std::string>> pending_;
};

struct Fixture {
  explicit Fixture(int workers = 1) : broker(InlineOptions(workers)) {
    broker.set_storage(&store);
  }
  RecordingStore store;
  Broker broker;
};

// A persistent 3.1.1 session subscribed to `filter` at QoS 1 whose client then left.
void OfflineSubscriber(Broker& broker, int shard, const std::string& id, const std::string& filter) {
  TestConn sub(broker, shard, ProtocolVersion::kV311);
  Connect(sub, id, /*clean_start=*/false);
  Subscribe(sub, filter, 1);
  sub.Write(codec::Disconnect{});
}

TEST(StoragePortTest, CleanSessionsAreNeverStored) {
  Fixture f;
  TestConn c(f.broker, 0, ProtocolVersion::kV311);
  Connect(c, "clean", /*clean_start=*/true);
  Subscribe(c, "t", 1);
  c.Write(MakePublish("t", "x", 1, 7));
  EXPECT_EQ(c.Of<codec::Puback>().size(), 1u);
  EXPECT_THAT(f.store.Take(), IsEmpty());
}

TEST(StoragePortTest, PersistentSessionIsWrittenOnConnectAndSubscribe) {
  Fixture f;
  TestConn c(f.broker, 0, ProtocolVersion::kV311);
  ASSERT_TRUE(Connect(c, "p", /*clean_start=*/false));
  EXPECT_THAT(f.store.Take(), ElementsAre("session+ p"));
  EXPECT_THAT(Subscribe(c, "a/+", 1), ElementsAre(ReasonCode::kGrantedQos1));
  EXPECT_THAT(f.store.Take(), ElementsAre("sub+ p a/+"));
  codec::Unsubscribe unsubscribe;
  unsubscribe.packet_id = 2;
  unsubscribe.filters = {"a/+"};
  c.Write(unsubscribe);
  EXPECT_THAT(f.store.Take(), ElementsAre("sub- p a/+"));
}

TEST(StoragePortTest, QueuedMessageOfOfflineSessionIsStoredAndDeletedOnPuback) {
  Fixture f;
  OfflineSubscriber(f.broker, 0, "s", "t");
  f.store.Take();
  TestConn pub(f.broker, 0, ProtocolVersion::kV311);
  Connect(pub, "pub");
  pub.Write(MakePublish("t", "m", 1, 3));
  EXPECT_EQ(pub.Of<codec::Puback>().size(), 1u);
  EXPECT_THAT(f.store.Take(), ElementsAre("msg+ s #1 pid0"));

  TestConn sub(f.broker, 0, ProtocolVersion::kV311);
  ASSERT_TRUE(Connect(sub, "s", false)->session_present);
  auto got = sub.Of<codec::Publish>();
  ASSERT_EQ(got.size(), 1u);
  // Sent from the queue: the same record now carries its packet id.
  EXPECT_THAT(f.store.Take(),
              ElementsAre("session+ s", "msg+ s #1 pid" + std::to_string(got[0].packet_id)));
  sub.Write(MakeAck<codec::Puback>(got[0].packet_id));
  EXPECT_THAT(f.store.Take(), ElementsAre("msg- s #1"));
}

TEST(StoragePortTest, PubackWaitsForTheCommit) {
  Fixture f;
  TestConn sub(f.broker, 0, ProtocolVersion::kV311);
  Connect(sub, "s", false);
  Subscribe(sub, "t", 1);
  TestConn pub(f.broker, 0, ProtocolVersion::kV311);
  Connect(pub, "pub");
  f.store.Take();
  // Run the handler without settling the shard: the commit is only posted, the PUBACK waits.
  const int commits_before = f.store.commits;
  int commits_then = -1;
  size_t held_then = 0;
  pub.WithClient([&](Client* c) {
    std::string bytes;
    codec::Encode(MakePublish("t", "m", 1, 9), ProtocolVersion::kV311, bytes);
    c->OnBytes(bytes);
    commits_then = f.store.commits;
    held_then = c->held_acks();
  });
  EXPECT_EQ(commits_then, commits_before);
  EXPECT_EQ(held_then, 1u);
  // WithClient settles afterwards: by then the commit ran and released the PUBACK.
  EXPECT_EQ(f.store.commits, commits_before + 1);
  EXPECT_EQ(pub.Of<codec::Puback>().size(), 1u);
  EXPECT_THAT(f.store.Take(), ElementsAre("msg+ s #1 pid1"));
}

// Under load (a commit of 64 changes or more before) the next commit waits for the commit delay,
// and the PUBACK with it; a light load commits in the same turn (the first burst above).
TEST(StoragePortTest, BusyShardHoldsItsCommitAndTheAcksForTheDelay) {
  Fixture f;
  OfflineSubscriber(f.broker, 0, "s", "t");
  TestConn pub(f.broker, 0, ProtocolVersion::kV311);
  Connect(pub, "pub");
  std::string burst;
  for (uint16_t id = 1; id <= 70; ++id) {
    codec::Encode(MakePublish("t", "m", 1, id), ProtocolVersion::kV311, burst);
  }
  pub.WriteBytes(burst);  // one turn, one commit of 70 messages, acks released at once
  ASSERT_EQ(pub.Of<codec::Puback>().size(), 70u);
  const int commits = f.store.commits;
  pub.Write(MakePublish("t", "m", 1, 71));
  EXPECT_EQ(pub.Of<codec::Puback>().size(), 70u);  // held: the shard is busy
  EXPECT_EQ(f.store.commits, commits);
  RunFor(f.broker, std::chrono::milliseconds(20));  // past the 3 ms default
  EXPECT_EQ(f.store.commits, commits + 1);
  EXPECT_EQ(pub.Of<codec::Puback>().size(), 71u);
}

TEST(StoragePortTest, FailedCommitClosesThePublisherWithoutAck) {
  Fixture f;
  OfflineSubscriber(f.broker, 0, "s", "t");
  TestConn pub(f.broker, 0, ProtocolVersion::kV311);
  Connect(pub, "pub");
  f.store.fail = true;
  pub.Write(MakePublish("t", "m", 1, 3));
  EXPECT_THAT(pub.Of<codec::Puback>(), IsEmpty());
  EXPECT_TRUE(pub.closed());
}

TEST(StoragePortTest, CrossShardPubackWaitsForTheOtherShardsCommit) {
  Fixture f(2);
  OfflineSubscriber(f.broker, 1, "s", "t");
  TestConn pub(f.broker, 0, ProtocolVersion::kV311);
  Connect(pub, "pub");
  f.store.Take();
  pub.Write(MakePublish("t", "m", 1, 3));
  EXPECT_EQ(pub.Of<codec::Puback>().size(), 1u);
  EXPECT_THAT(f.store.Take(), ElementsAre("msg+ s #1 pid0"));
}

TEST(StoragePortTest, Qos2IncomingIdsAndRetainedAreStored) {
  Fixture f;
  TestConn pub(f.broker, 0, ProtocolVersion::kV311);
  Connect(pub, "p2", false);
  f.store.Take();
  pub.Write(MakePublish("r", "keep", 2, 5, /*retain=*/true));
  EXPECT_EQ(pub.Of<codec::Pubrec>().size(), 1u);
  EXPECT_THAT(f.store.Take(), ElementsAre("ret+ r", "q2+ p2 5"));
  pub.Write(MakeAck<codec::Pubrel>(5));
  EXPECT_EQ(pub.Of<codec::Pubcomp>().size(), 1u);
  EXPECT_THAT(f.store.Take(), ElementsAre("q2- p2 5"));
  pub.Write(MakePublish("r", "", 0, 0, /*retain=*/true));
  EXPECT_THAT(f.store.Take(), ElementsAre("ret- r"));
}

TEST(StoragePortTest, SessionEndDeletesIt) {
  Fixture f;
  TestConn c(f.broker, 0, ProtocolVersion::kV311);
  Connect(c, "p", false);
  Subscribe(c, "t", 1);
  f.store.Take();
  TestConn again(f.broker, 0, ProtocolVersion::kV311);
  Connect(again, "p", /*clean_start=*/true);  // takes over and discards the session
  // The old connection's end keeps the session (offline since now), then clean start ends it.
  EXPECT_THAT(f.store.Take(), ElementsAre("session+ p", "session- p"));
}

TEST(StoragePortTest, RestoredSessionQueuesWhileOfflineAndResumesWithDup) {
  RecordingStore store;
  Broker broker(InlineOptions(2));
  broker.set_storage(&store);
  LoadedData data;
  LoadedSession s;
  s.meta.client_id = "back";
  s.meta.expiry_interval_s = 0xFFFFFFFFu;
  s.state.client_id = "back";
  StoredSubscription sub;
  sub.request.filter = "t";
  sub.request.qos = 1;
  s.state.subscriptions.push_back(sub);
  OutboundInflight inflight;
  inflight.packet_id = 42;
  inflight.delivery.qos = 1;
  inflight.delivery.store_seq = 7;
  auto msg = std::make_shared<Message>();
  msg->topic = "t";
  msg->payload = codec::SharedBytes(std::string("old"));
  msg->qos = 1;
  inflight.delivery.msg = msg;
  s.state.inflight.push_back(inflight);
  data.sessions.push_back(std::move(s));
  auto kept = std::make_shared<Message>(*msg);
  kept->topic = "kept";
  kept->retain = true;
  data.retained.push_back(kept);
  EXPECT_EQ(broker.Restore(std::move(data)), 1u);
  EXPECT_TRUE(broker.retained().Get("kept"));

  TestConn pub(broker, 0, ProtocolVersion::kV311);
  Connect(pub, "pub");
  pub.Write(MakePublish("t", "new", 1, 1));  // the subscription is indexed: this queues
  TestConn c(broker, 1, ProtocolVersion::kV311);
  ASSERT_TRUE(Connect(c, "back", false)->session_present);
  auto got = c.Of<codec::Publish>();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].payload.str(), "old");
  EXPECT_TRUE(got[0].dup);
  EXPECT_EQ(got[0].packet_id, 42);
  EXPECT_EQ(got[1].payload.str(), "new");
  EXPECT_FALSE(got[1].dup);
}

}  // namespace
}  // namespace meshmq::broker::testing
