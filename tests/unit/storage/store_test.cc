// Store: records written through the StoragePort come back from Load (key layout, ordering,
// deletes), batches are written once per Commit, and a broker restarted on the same RocksDB
// directory gets its persistent sessions and retained messages back.
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "../broker/broker_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/memory_engine.h"
#include "storage/open_store.h"
#include "storage/store.h"
#include "storage/store_keys.h"

namespace meshmq::storage {
namespace {

using broker::Delivery;
using broker::Message;
using broker::StoredSessionMeta;
using broker::StoredSubscription;
using ::testing::ElementsAre;

broker::MessagePtr Msg(const std::string& topic, const std::string& payload) {
  auto m = std::make_shared<Message>();
  m->topic = topic;
  m->payload = codec::SharedBytes(payload);
  m->qos = 1;
  codec::Properties props;
  props.content_type = "text/plain";
  m->set_properties(std::move(props));
  m->expiry_at_ms = 4102444800000;  // 2100
  m->origin_client_id = "origin";
  return m;
}

Delivery Del(uint64_t seq, const std::string& payload) {
  Delivery d;
  d.msg = Msg("t", payload);
  d.qos = 1;
  d.subscription_ids = {3};
  d.store_seq = seq;
  return d;
}

struct MemoryStore {
  MemoryEngine* engine = new MemoryEngine();
  Store store{std::unique_ptr<KvEngine>(engine), 2};
};

TEST(StoreTest, SessionRoundTrip) {
  MemoryStore m;
  Store& s = m.store;
  StoredSessionMeta meta{"c1", codec::ProtocolVersion::kV5, 300, 1234};
  s.PutSession(0, meta);
  StoredSubscription sub;
  sub.request.filter = "a/#";
  sub.request.qos = 2;
  sub.request.no_local = true;
  sub.subscription_id = 9;
  s.PutSubscription(0, "c1", sub);
  s.PutMessage(0, "c1", 0, false, Del(2, "queued"));
  s.PutMessage(0, "c1", 17, false, Del(1, "inflight"));
  Delivery released;  // QoS 2 after PUBREC: only the packet id is left
  released.qos = 2;
  released.store_seq = 3;
  s.PutMessage(0, "c1", 18, true, released);
  s.PutIncomingQos2(0, "c1", 300);
  s.PutRetained(-1, Msg("keep/me", "r"));
  // Nothing but the retained message (written at once) before the commit.
  EXPECT_EQ(m.engine->size(), 1u);
  EXPECT_TRUE(s.HasPending(0));
  ASSERT_TRUE(s.Commit(0));
  EXPECT_FALSE(s.HasPending(0));
  EXPECT_EQ(m.engine->writes(), 2);  // one for the retained message, one batch

  auto data = s.Load();
  ASSERT_TRUE(data.ok()) << data.status();
  ASSERT_EQ(data->retained.size(), 1u);
  EXPECT_EQ(data->retained[0]->topic, "keep/me");
  EXPECT_EQ(data->retained[0]->props().content_type, "text/plain");
  ASSERT_EQ(data->sessions.size(), 1u);
  const auto& loaded = data->sessions[0];
  EXPECT_EQ(loaded.meta.client_id, "c1");
  EXPECT_EQ(loaded.meta.version, codec::ProtocolVersion::kV5);
  EXPECT_EQ(loaded.meta.expiry_interval_s, 300u);
  EXPECT_EQ(loaded.meta.disconnected_at_ms, 1234);
  ASSERT_EQ(loaded.state.subscriptions.size(), 1u);
  EXPECT_EQ(loaded.state.subscriptions[0].request.filter, "a/#");
  EXPECT_EQ(loaded.state.subscriptions[0].request.qos, 2);
  EXPECT_TRUE(loaded.state.subscriptions[0].request.no_local);
  EXPECT_EQ(loaded.state.subscriptions[0].subscription_id, 9u);
  // In flight in key (delivery) order, with packet ids; PUBREC'd ones without a message.
  ASSERT_EQ(loaded.state.inflight.size(), 2u);
  EXPECT_EQ(loaded.state.inflight[0].packet_id, 17);
  EXPECT_EQ(loaded.state.inflight[0].delivery.store_seq, 1u);
  EXPECT_EQ(loaded.state.inflight[0].delivery.msg->payload.str(), "inflight");
  EXPECT_THAT(loaded.state.inflight[0].delivery.subscription_ids, ElementsAre(3u));
  EXPECT_EQ(loaded.state.inflight[1].packet_id, 18);
  EXPECT_TRUE(loaded.state.inflight[1].pubrec_received);
  ASSERT_EQ(loaded.state.queue.size(), 1u);
  EXPECT_EQ(loaded.state.queue[0].msg->payload.str(), "queued");
  EXPECT_EQ(loaded.state.queue[0].store_seq, 2u);
  EXPECT_THAT(loaded.state.incoming_qos2, ElementsAre(300));
}

TEST(StoreTest, MessagesComeBackInSequenceOrderBeyondOneByte) {
  MemoryStore m;
  m.store.PutSession(1, StoredSessionMeta{"c", codec::ProtocolVersion::kV311, 10, 0});
  for (uint64_t seq : {300u, 2u, 256u, 1u}) m.store.PutMessage(1, "c", 0, false, Del(seq, "x"));
  ASSERT_TRUE(m.store.Commit(1));
  auto data = m.store.Load();
  ASSERT_TRUE(data.ok());
  std::vector<uint64_t> seqs;
  for (const auto& d : data->sessions[0].state.queue) seqs.push_back(d.store_seq);
  EXPECT_THAT(seqs, ElementsAre(1u, 2u, 256u, 300u));
}

TEST(StoreTest, DeletesRemoveOnlyTheirRecords) {
  MemoryStore m;
  Store& s = m.store;
  uint64_t seq = 0;
  for (const char* id : {"a", "ab"}) {
    s.PutSession(0, StoredSessionMeta{id, codec::ProtocolVersion::kV311, 10, 0});
    StoredSubscription sub;
    sub.request.filter = "f";
    s.PutSubscription(0, id, sub);
    s.PutMessage(0, id, 0, false, Del(++seq, id));
    s.PutIncomingQos2(0, id, 1);
  }
  s.PutMessage(0, "ab", 0, false, Del(3, "second"));
  ASSERT_TRUE(s.Commit(0));
  s.DeleteMessage(0, "a", 1);
  s.DeleteSession(0, "a");  // a prefix of "ab": "ab" must stay whole
  s.DeleteMessage(0, "ab", 2);
  ASSERT_TRUE(s.Commit(0));
  auto data = s.Load();
  ASSERT_TRUE(data.ok());
  ASSERT_EQ(data->sessions.size(), 1u);
  const auto& ab = data->sessions[0].state;
  EXPECT_EQ(ab.client_id, "ab");
  EXPECT_EQ(ab.subscriptions.size(), 1u);
  ASSERT_EQ(ab.queue.size(), 1u);
  EXPECT_EQ(ab.queue[0].msg->payload.str(), "second");
  EXPECT_EQ(ab.incoming_qos2.size(), 1u);
  s.DeleteRetained(-1, "none");  // deleting what is absent is harmless
  EXPECT_TRUE(s.Load().ok());
}

TEST(StoreTest, MessagesWithoutTheirSessionAreSkippedAndDeleted) {
  MemoryStore m;
  m.store.PutMessage(0, "ghost", 0, false, Del(1, "x"));
  ASSERT_TRUE(m.store.Commit(0));
  auto data = m.store.Load();
  ASSERT_TRUE(data.ok());
  EXPECT_TRUE(data->sessions.empty());
  EXPECT_EQ(m.engine->size(), 0u);
}

TEST(StoreTest, MetaRejectsGarbage) {
  EXPECT_FALSE(DecodeMeta("c", ""));
  EXPECT_FALSE(DecodeMeta("c", "\x01\x09"));
  auto meta = DecodeMeta("c", EncodeMeta(StoredSessionMeta{"c", codec::ProtocolVersion::kV31, 5, 6}));
  ASSERT_TRUE(meta);
  EXPECT_EQ(meta->version, codec::ProtocolVersion::kV31);
}

// Group commit with cancellation: a message acked before its batch is written costs nothing.
TEST(StoreTest, MessageDeletedBeforeItsCommitIsNeverWritten) {
  MemoryStore m;
  Store& s = m.store;
  s.PutSession(0, StoredSessionMeta{"c", codec::ProtocolVersion::kV311, 10, 0});
  ASSERT_TRUE(s.Commit(0));
  s.PutMessage(0, "c", 0, false, Del(5, "queued"));
  s.PutMessage(0, "c", 7, false, Del(5, "queued"));  // got its packet id in the same batch
  s.PutMessage(0, "c", 8, false, Del(6, "kept"));
  EXPECT_EQ(s.PendingMessagePuts(0), 2u);
  s.DeleteMessage(0, "c", 5);  // acked
  EXPECT_EQ(s.PendingMessagePuts(0), 1u);
  EXPECT_EQ(s.cancelled(), 1u);
  ASSERT_TRUE(s.Commit(0));
  EXPECT_EQ(s.messages_written(), 1u);  // only seq 6, once
  EXPECT_EQ(m.engine->size(), 2u);      // the session and seq 6
  s.DeleteMessage(0, "c", 6);
  EXPECT_TRUE(s.HasPending(0));
  ASSERT_TRUE(s.Commit(0));
  EXPECT_EQ(m.engine->size(), 1u);
  int writes = m.engine->writes();
  s.PutMessage(0, "c", 9, false, Del(7, "x"));
  s.DeleteMessage(0, "c", 7);
  EXPECT_FALSE(s.HasPending(0));
  ASSERT_TRUE(s.Commit(0));
  EXPECT_EQ(m.engine->writes(), writes);  // nothing left to write: no write at all
}

// A new state of a record an earlier batch wrote (queued -> in flight) must not cancel the
// earlier record away when the message is acked before the next commit.
TEST(StoreTest, AckOfAWrittenMessageDeletesItEvenAfterAReput) {
  MemoryStore m;
  Store& s = m.store;
  s.PutSession(0, StoredSessionMeta{"c", codec::ProtocolVersion::kV311, 10, 0});
  s.PutMessage(0, "c", 0, false, Del(5, "queued"));
  ASSERT_TRUE(s.Commit(0));
  s.PutMessage(0, "c", 3, false, Del(5, "queued"));
  s.DeleteMessage(0, "c", 5);
  EXPECT_EQ(s.cancelled(), 0u);
  ASSERT_TRUE(s.Commit(0));
  auto data = s.Load();
  ASSERT_TRUE(data.ok());
  ASSERT_EQ(data->sessions.size(), 1u);
  EXPECT_TRUE(data->sessions[0].state.queue.empty());
  EXPECT_TRUE(data->sessions[0].state.inflight.empty());
}

// After a restart the loaded records are in the engine: the first put of a loaded key in the new
// process is not its first write.
TEST(StoreTest, LoadedMessagesAreDeletedNotCancelled) {
  MemoryStore before;
  before.store.PutSession(0, StoredSessionMeta{"c", codec::ProtocolVersion::kV311, 10, 0});
  before.store.PutMessage(0, "c", 0, false, Del(9, "queued"));
  ASSERT_TRUE(before.store.Commit(0));
  MemoryStore after;
  std::unique_ptr<KvBatch> copy = after.engine->NewBatch();
  ASSERT_TRUE(before.engine->Scan("", [&](auto k, auto v) { copy->Put(k, v); }).ok());
  ASSERT_TRUE(after.engine->Write(*copy).ok());
  auto loaded = after.store.Load();
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->sessions.at(0).state.queue.size(), 1u);
  after.store.PutMessage(1, "c", 4, false, Del(9, "queued"));  // sent after the restart
  after.store.DeleteMessage(1, "c", 9);                        // and acked
  ASSERT_TRUE(after.store.Commit(1));
  auto again = after.store.Load();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->sessions.at(0).state.queue.empty());
  EXPECT_TRUE(again->sessions.at(0).state.inflight.empty());
}

// A whole broker: a persistent subscriber away, QoS 1 messages acknowledged to the publisher,
// then the broker and its store are dropped without a clean stop, and a new broker on the same
// directory delivers them.
TEST(StoreTest, BrokerRestartOnTheSameDirectoryBringsSessionsBack) {
  using namespace broker::testing;
  std::string dir = (std::filesystem::temp_directory_path() /
                     ("meshmq-store-" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(dir);
  {
    auto store = OpenRocksDbStore(dir, SyncMode::kNone, 1000, 2);
    ASSERT_TRUE(store.ok()) << store.status();
    broker::Broker b(InlineOptions(2));
    b.set_storage(store->get());
    {
      TestConn sub(b, 1, ProtocolVersion::kV5);
      codec::Connect c = MakeConnect(ProtocolVersion::kV5, "sub", false);
      c.properties.session_expiry_interval = 3600;
      ASSERT_TRUE(Connect(sub, c));
      Subscribe(sub, "t/#", 1);
      sub.Write(codec::Disconnect{});
    }
    TestConn pub(b, 0, ProtocolVersion::kV311);
    Connect(pub, "pub");
    for (uint16_t i = 1; i <= 3; ++i) pub.Write(MakePublish("t/x", "m" + std::to_string(i), 1, i));
    pub.Write(MakePublish("t/r", "retained", 1, 4, /*retain=*/true));
    ASSERT_EQ(pub.Of<codec::Puback>().size(), 4u);
  }
  auto store = OpenRocksDbStore(dir, SyncMode::kNone, 1000, 3);
  ASSERT_TRUE(store.ok()) << store.status();
  auto data = (*store)->Load();
  ASSERT_TRUE(data.ok()) << data.status();
  broker::Broker b(InlineOptions(3));
  b.set_storage(store->get());
  EXPECT_EQ(b.Restore(std::move(*data)), 1u);
  EXPECT_TRUE(b.retained().Get("t/r"));
  TestConn sub(b, 2, ProtocolVersion::kV5);
  codec::Connect c = MakeConnect(ProtocolVersion::kV5, "sub", false);
  c.properties.session_expiry_interval = 3600;
  auto ack = Connect(sub, c);
  ASSERT_TRUE(ack);
  EXPECT_TRUE(ack->session_present);
  EXPECT_THAT(Payloads(sub.Of<codec::Publish>()), ElementsAre("m1", "m2", "m3", "retained"));
  // Acknowledged now: a further restart has nothing left to deliver.
  for (const auto& p : sub.Of<codec::Publish>()) sub.Write(MakeAck<codec::Puback>(p.packet_id));
  auto again = (*store)->Load();
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->sessions.size(), 1u);
  EXPECT_TRUE(again->sessions[0].state.queue.empty());
  EXPECT_TRUE(again->sessions[0].state.inflight.empty());
  EXPECT_EQ(again->sessions[0].state.subscriptions.size(), 1u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace meshmq::storage
