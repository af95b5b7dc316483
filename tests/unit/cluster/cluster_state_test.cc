// Unit tests of the cluster's gRPC-free bookkeeping and of the Message codec.
#include "cluster/cluster_state.h"

#include <gtest/gtest.h>

#include "cluster/message_codec.h"

namespace meshmq::cluster {
namespace {

TEST(RouteSetTest, DigestIsOrderIndependentAndTracksChanges) {
  RouteSet a, b;
  a.Add("x/#");
  a.Add("y/+/z");
  b.Add("y/+/z");
  b.Add("x/#");
  EXPECT_EQ(a.digest(), b.digest());
  EXPECT_FALSE(a.Add("x/#"));
  a.Remove("x/#");
  EXPECT_NE(a.digest(), b.digest());
  b.Replace({"y/+/z"}, 7);
  EXPECT_EQ(a.digest(), b.digest());
  EXPECT_EQ(b.seq(), 7u);
  RouteSet empty;
  EXPECT_EQ(empty.digest(), 0u);
}

ForwardBuffer::Entry Entry(uint8_t qos, size_t bytes) {
  auto m = std::make_shared<broker::Message>();
  m->topic = "t";
  m->qos = qos;
  ForwardBuffer::Entry e;
  e.msg = std::move(m);
  e.bytes = bytes;
  return e;
}

TEST(ForwardBufferTest, ResendsOnlyUnackedQos1AfterRewind) {
  ForwardBuffer buf(1 << 20);
  for (uint8_t q : {1, 0, 1, 1}) ASSERT_TRUE(buf.Push(Entry(q, 10)));
  std::vector<ForwardBuffer::Taken> sent;
  buf.TakeUnsent(3, &sent);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].seq, 1u);
  EXPECT_EQ(buf.Ack(1).size(), 1u);
  buf.Rewind();  // seq 2 (QoS 0, sent) is dropped, 3 (sent) and 4 (unsent) remain
  std::vector<ForwardBuffer::Taken> again;
  buf.TakeUnsent(10, &again);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].seq, 3u);
  EXPECT_EQ(again[1].seq, 4u);
  EXPECT_EQ(buf.resent(), 1u);
  buf.Ack(4);
  EXPECT_EQ(buf.size(), 0u);
  EXPECT_EQ(buf.bytes(), 0u);
}

// A written QoS 0 message is never resent, so the buffer lets go of it when the writer takes it
// (the writer's copy is then the sender's last but the shard's); QoS 1 stays until acked.
TEST(ForwardBufferTest, GivesUpQos0MessagesWhenTakenAndKeepsQos1UntilAcked) {
  ForwardBuffer buf(1 << 20);
  ASSERT_TRUE(buf.Push(Entry(0, 10)));
  ASSERT_TRUE(buf.Push(Entry(1, 10)));
  std::vector<ForwardBuffer::Taken> sent;
  buf.TakeUnsent(10, &sent);
  ASSERT_EQ(sent.size(), 2u);
  ASSERT_NE(sent[0].msg, nullptr);
  ASSERT_NE(sent[1].msg, nullptr);
  EXPECT_EQ(sent[0].msg.use_count(), 1);  // the writer's copy only
  EXPECT_EQ(sent[1].msg.use_count(), 2);  // and the buffer's, for a resend
  EXPECT_EQ(buf.bytes(), 20u);             // both still count until the ack
  buf.Rewind();
  std::vector<ForwardBuffer::Taken> again;
  buf.TakeUnsent(10, &again);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].seq, 2u);
  buf.Ack(2);
  EXPECT_EQ(buf.bytes(), 0u);
}

TEST(ForwardBufferTest, BoundedByBytes) {
  ForwardBuffer buf(25);
  EXPECT_TRUE(buf.Push(Entry(1, 10)));
  EXPECT_TRUE(buf.Push(Entry(1, 10)));
  EXPECT_FALSE(buf.Push(Entry(1, 10)));
  {
    std::vector<ForwardBuffer::Taken> sent;
    buf.TakeUnsent(10, &sent);
  }
  buf.Ack(1);
  EXPECT_TRUE(buf.Push(Entry(1, 10)));
}

TEST(ReceiveTrackerTest, DeduplicatesAndAcksBelowPending) {
  ReceiveTracker t;
  EXPECT_TRUE(t.Accept(5, 1));
  EXPECT_TRUE(t.Accept(5, 2));
  EXPECT_TRUE(t.Accept(5, 4));
  EXPECT_FALSE(t.Accept(5, 2));
  EXPECT_EQ(t.Acked(), 0u);
  t.Done(5, 2);
  EXPECT_EQ(t.Acked(), 0u);
  t.Done(5, 1);
  EXPECT_EQ(t.Acked(), 3u);
  t.Done(5, 4);
  EXPECT_EQ(t.Acked(), 4u);
  EXPECT_TRUE(t.Accept(6, 1));  // new incarnation of the sender: fresh sequence space
  EXPECT_EQ(t.Acked(), 0u);
}

// Batches complete out of order (their shards run independently): each marks its own seqs.
TEST(ReceiveTrackerTest, BatchesDoneOutOfOrderAckOnlyBelowTheOldestPending) {
  ReceiveTracker t;
  for (uint64_t s = 1; s <= 9; ++s) EXPECT_TRUE(t.Accept(7, s));
  t.Done(7, std::vector<uint64_t>{4, 5, 7});  // a batch whose 6 was a duplicate elsewhere
  EXPECT_EQ(t.Acked(), 0u);
  t.Done(7, std::vector<uint64_t>{8, 9});
  EXPECT_EQ(t.Acked(), 0u);
  t.Done(7, std::vector<uint64_t>{1, 2, 3});
  EXPECT_EQ(t.Acked(), 5u);  // 6 still pending
  t.Done(6, std::vector<uint64_t>{6});  // an old incarnation's completion changes nothing
  EXPECT_EQ(t.Acked(), 5u);
  t.Done(7, std::vector<uint64_t>{6});
  EXPECT_EQ(t.Acked(), 9u);
  t.Done(7, std::vector<uint64_t>{});
  EXPECT_EQ(t.Acked(), 9u);
}

TEST(ClientRegistryTest, NewestRegistrationWinsEverywhere) {
  ClientRegistry r;
  r.SetLocal("c", 100);
  EXPECT_FALSE(r.AddRemote("b", "c", 50, "a"));  // older elsewhere: we keep ours
  EXPECT_EQ(r.Owner("c", "a")->node_id, "a");
  EXPECT_TRUE(r.AddRemote("z", "c", 100, "a"));  // same time: node id breaks the tie
  EXPECT_TRUE(r.local().empty());
  EXPECT_EQ(r.Owner("c", "a")->node_id, "z");
  r.DropNode("z");
  EXPECT_EQ(r.Owner("c", "a")->node_id, "b");
}

TEST(RetainedVersionsTest, LastWriterWinsByTimestampThenNode) {
  RetainedVersions v;
  broker::Message m;
  m.topic = "r";
  m.timestamp_ms = 10;
  m.origin_node = "b";
  EXPECT_TRUE(v.Offer(m));
  m.origin_node = "a";
  EXPECT_FALSE(v.Offer(m));  // same time, smaller node id loses
  m.timestamp_ms = 9;
  m.origin_node = "z";
  EXPECT_FALSE(v.Offer(m));
  m.timestamp_ms = 11;
  EXPECT_TRUE(v.Offer(m));
}

TEST(MessageCodecTest, RoundTripKeepsEveryField) {
  broker::Message m;
  m.topic = "a/b";
  m.payload = codec::SharedBytes(std::string("p\0q", 3));
  m.qos = 2;
  m.retain = true;
  codec::Properties m_props;
  m_props.payload_format_indicator = 1;
  m_props.content_type = "text/plain";
  m_props.response_topic = "resp";
  m_props.correlation_data = std::string("\x00\x01", 2);
  m_props.user_properties = {{"k", "v"}, {"k", "w"}};
  m.set_properties(std::move(m_props));
  m.expiry_at_ms = 123456;
  m.origin_client_id = "cli";
  m.origin_node = "n1";
  m.timestamp_ms = 42;
  v1::Message proto;
  EncodeMessage(m, &proto);
  broker::MessagePtr back = DecodeMessage(std::move(proto));
  EXPECT_EQ(back->topic, m.topic);
  EXPECT_EQ(back->payload, m.payload);
  EXPECT_EQ(back->qos, 2);
  EXPECT_TRUE(back->retain);
  EXPECT_EQ(back->props(), m.props());
  EXPECT_EQ(back->expiry_at_ms, m.expiry_at_ms);
  EXPECT_EQ(back->origin_client_id, "cli");
  EXPECT_EQ(back->origin_node, "n1");
  EXPECT_EQ(back->timestamp_ms, 42);

  broker::Message bare;  // absent optionals stay absent
  v1::Message p2;
  EncodeMessage(bare, &p2);
  broker::MessagePtr b2 = DecodeMessage(std::move(p2));
  EXPECT_FALSE(b2->expiry_at_ms.has_value());
  EXPECT_FALSE(b2->props().content_type.has_value());
  EXPECT_FALSE(b2->props().payload_format_indicator.has_value());
}

}  // namespace
}  // namespace meshmq::cluster
