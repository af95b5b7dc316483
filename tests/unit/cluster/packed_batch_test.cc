// The packed forward-batch encoding (docs/cluster.md, "Packed forward batches"): every field
// round-trips, payloads are slices of the batch buffer, and damaged input is an error value.
#include "cluster/packed_batch.h"

#include <gtest/gtest.h>

#include <random>

namespace meshmq::cluster {
namespace {

broker::Message FullMessage() {
  broker::Message m;
  m.topic = "a/b/ü";
  m.payload = codec::SharedBytes(std::string("p\0q", 3));
  m.qos = 2;
  m.retain = true;
  codec::Properties m_props;
  m_props.payload_format_indicator = 1;
  m_props.content_type = "text/plain";
  m_props.response_topic = "resp";
  m_props.correlation_data = std::string("\x00\x01", 2);
  m_props.user_properties = {{"k", "v"}, {"k", "w"}, {"", ""}};
  m.set_properties(std::move(m_props));
  m.expiry_at_ms = 1'790'000'000'123;
  m.origin_client_id = "client-with-a-long-id";
  m.origin_node = "node1";
  m.timestamp_ms = 1'790'000'000'000;
  m.origin_seq = (uint64_t{1} << 63) + 5;
  return m;
}

std::shared_ptr<const std::string> Buffer(std::string s) {
  return std::make_shared<const std::string>(std::move(s));
}

TEST(PackedBatchTest, RoundTripKeepsEveryField) {
  const broker::Message m = FullMessage();
  broker::SessionTarget target{"moved-client", 1, true, {7, 0xffffffffu}};
  std::vector<std::string> shared = {"$share/g/a/#", "$share/h/+/b"};
  std::string packed;
  PackedBatchWriter writer(&packed);
  writer.Add(UINT64_MAX, m, true, &shared, nullptr);
  writer.Add(2, m, false, nullptr, &target);
  auto decoded = UnpackForwardBatch(Buffer(packed));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_EQ(decoded->size(), 2u);

  for (const PackedForward& f : *decoded) {
    const broker::Message& back = *f.msg;
    EXPECT_EQ(back.topic, m.topic);
    EXPECT_EQ(back.payload, m.payload);
    EXPECT_EQ(back.qos, 2);
    EXPECT_TRUE(back.retain);
    EXPECT_EQ(back.props(), m.props());
    EXPECT_EQ(back.expiry_at_ms, m.expiry_at_ms);
    EXPECT_EQ(back.origin_client_id, m.origin_client_id);
    EXPECT_EQ(back.origin_node, m.origin_node);
    EXPECT_EQ(back.timestamp_ms, m.timestamp_ms);
    EXPECT_EQ(back.origin_seq, m.origin_seq);
  }
  const PackedForward& a = (*decoded)[0];
  EXPECT_EQ(a.seq, UINT64_MAX);
  EXPECT_TRUE(a.to_subscribers);
  EXPECT_EQ(a.shared_filters, shared);
  EXPECT_FALSE(a.target.has_value());
  const PackedForward& b = (*decoded)[1];
  EXPECT_EQ(b.seq, 2u);
  EXPECT_FALSE(b.to_subscribers);
  EXPECT_TRUE(b.shared_filters.empty());
  ASSERT_TRUE(b.target.has_value());
  EXPECT_EQ(b.target->client_id, "moved-client");
  EXPECT_EQ(b.target->qos, 1);
  EXPECT_TRUE(b.target->retain);
  EXPECT_EQ(b.target->subscription_ids, (std::vector<uint32_t>{7, 0xffffffffu}));
}

TEST(PackedBatchTest, AbsentOptionalsStayAbsentAndNegativeTimesSurvive) {
  broker::Message bare;  // empty topic, empty payload, no properties
  bare.timestamp_ms = -1;
  std::string packed;
  PackedBatchWriter(&packed).Add(0, bare, false, nullptr, nullptr);
  EXPECT_EQ(packed.size(), 9u);  // version, seq, flags, 4 empty strings, 2 varints
  auto decoded = UnpackForwardBatch(Buffer(packed));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_EQ(decoded->size(), 1u);
  const broker::Message& back = *(*decoded)[0].msg;
  EXPECT_TRUE(back.topic.empty());
  EXPECT_TRUE(back.payload.empty());
  EXPECT_EQ(back.qos, 0);
  EXPECT_FALSE(back.retain);
  EXPECT_EQ(back.timestamp_ms, -1);
  EXPECT_FALSE(back.expiry_at_ms.has_value());
  EXPECT_FALSE(back.props().payload_format_indicator.has_value());
  EXPECT_FALSE(back.props().content_type.has_value());
  EXPECT_FALSE(back.props().response_topic.has_value());
  EXPECT_FALSE(back.props().correlation_data.has_value());
  EXPECT_TRUE(back.props().user_properties.empty());
  // Present but empty is not absent.
  codec::Properties bare_props;
  bare_props.content_type = "";
  bare.set_properties(std::move(bare_props));
  PackedBatchWriter(&packed).Add(0, bare, false, nullptr, nullptr);
  decoded = UnpackForwardBatch(Buffer(packed));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ((*decoded)[0].msg->props().content_type, std::optional<std::string>(""));
}

// The large payload is a slice of the batch; the small one is copied out, so that it cannot keep
// the whole batch alive (e.g. queued for an offline session).
TEST(PackedBatchTest, HugePayloadIsASliceOfTheBatchSmallOnesAreCopiedOut) {
  broker::Message big;
  big.topic = "big";
  big.payload = codec::SharedBytes(std::string(5 << 20, 'x'));
  broker::Message small;
  small.topic = "small";
  small.payload = codec::SharedBytes(std::string("hello"));
  std::string packed;
  PackedBatchWriter writer(&packed);
  writer.Add(1, big, true, nullptr, nullptr);
  writer.Add(2, small, true, nullptr, nullptr);
  auto buffer = Buffer(packed);
  auto decoded = UnpackForwardBatch(buffer);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_EQ(decoded->size(), 2u);
  EXPECT_EQ((*decoded)[0].msg->payload, big.payload);
  EXPECT_EQ((*decoded)[1].msg->payload.view(), "hello");
  const codec::SharedBytes& huge = (*decoded)[0].msg->payload;
  EXPECT_EQ(huge.block(), buffer);  // shares the batch's block
  EXPECT_GE(huge.data(), buffer->data());
  EXPECT_LE(huge.data() + huge.size(), buffer->data() + buffer->size());
  const codec::SharedBytes& hello = (*decoded)[1].msg->payload;
  EXPECT_NE(hello.block(), buffer);  // its own block: the 5 MiB batch can be freed
  EXPECT_EQ(hello.block()->size(), 5u);
}

TEST(PackedBatchTest, EmptyBatchAndWrongVersionAreRejected) {
  EXPECT_FALSE(UnpackForwardBatch(Buffer("")).ok());
  EXPECT_FALSE(UnpackForwardBatch(nullptr).ok());
  std::string packed;
  PackedBatchWriter(&packed).Add(1, FullMessage(), true, nullptr, nullptr);
  packed[0] = static_cast<char>(kPackedBatchVersion + 1);
  auto decoded = UnpackForwardBatch(Buffer(packed));
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("version"), std::string::npos);
  // Only the version byte: a valid batch of no messages.
  decoded = UnpackForwardBatch(Buffer(std::string(1, static_cast<char>(kPackedBatchVersion))));
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->empty());
}

TEST(PackedBatchTest, EveryTruncationIsAnErrorNotACrash) {
  broker::SessionTarget target{"c", 2, false, {1, 2, 3}};
  std::vector<std::string> shared = {"$share/g/t"};
  std::string packed;
  PackedBatchWriter(&packed).Add(300, FullMessage(), true, &shared, &target);
  for (size_t n = 2; n < packed.size(); ++n) {  // 1 byte: an empty batch
    auto decoded = UnpackForwardBatch(Buffer(packed.substr(0, n)));
    EXPECT_FALSE(decoded.ok()) << "prefix of " << n << " bytes decoded";
  }
  EXPECT_TRUE(UnpackForwardBatch(Buffer(packed)).ok());
}

TEST(PackedBatchTest, CorruptFieldsAreRejected) {
  std::string packed;
  PackedBatchWriter(&packed).Add(1, broker::Message{}, false, nullptr, nullptr);
  const std::string good = packed;  // [version][seq=1][flags][...]
  auto with_flags = [&](uint8_t flags) {
    std::string s = good;
    s[2] = static_cast<char>(flags);
    return UnpackForwardBatch(Buffer(s));
  };
  EXPECT_FALSE(with_flags(0x80).ok());  // unknown flag bit
  EXPECT_FALSE(with_flags(0x03).ok());  // QoS 3
  // A topic length far beyond the batch.
  std::string s = good;
  s[3] = static_cast<char>(0xff);
  s.insert(4, "\xff\xff\xff\x0f");
  EXPECT_FALSE(UnpackForwardBatch(Buffer(s)).ok());
  // A varint longer than 10 bytes as the sequence.
  s = good;
  s.replace(1, 1, std::string(11, '\xff'));
  EXPECT_FALSE(UnpackForwardBatch(Buffer(s)).ok());
  // A target with QoS 3.
  broker::SessionTarget target{"c", 1, false, {}};
  PackedBatchWriter(&packed).Add(1, broker::Message{}, false, nullptr, &target);
  packed[packed.size() - 3] = 3;  // [client id][qos][retain][count=0]
  EXPECT_FALSE(UnpackForwardBatch(Buffer(packed)).ok());
}

TEST(PackedBatchTest, RandomBytesNeverCrash) {
  std::mt19937 rng(12345);
  std::string packed;
  PackedBatchWriter writer(&packed);
  std::vector<std::string> shared = {"$share/g/t"};
  broker::SessionTarget target{"c", 2, false, {1, 2, 3}};
  for (int i = 0; i < 4; ++i) writer.Add(i, FullMessage(), i % 2 == 0, &shared, &target);
  int rejected = 0;
  for (int round = 0; round < 2000; ++round) {
    std::string s = packed;
    for (int k = 0; k < 3; ++k) s[1 + rng() % (s.size() - 1)] = static_cast<char>(rng());
    rejected += UnpackForwardBatch(Buffer(s)).ok() ? 0 : 1;
  }
  EXPECT_GT(rejected, 0);  // damage is noticed (some flips land in payload bytes and decode)
}

}  // namespace
}  // namespace meshmq::cluster

namespace meshmq::cluster {
namespace {

// Deferred decoding (the receiving node's path): plain messages are checked but left to the
// routing shard to build, and what it builds equals the eager decode; messages with shared
// filters or a target are built at once.
TEST(PackedBatchDeferredTest, BuildsPlainMessagesLaterAndTheSameAsEagerDecoding) {
  broker::Message plain = FullMessage();
  broker::Message bare;
  bare.topic = "t/bare";
  bare.payload = codec::SharedBytes(std::string("0123456789abcdef"));
  bare.origin_client_id = "publisher-0123456789";
  bare.origin_node = "node1";
  std::vector<std::string> shared = {"$share/g/a/#"};
  broker::SessionTarget target{"moved", 1, false, {}};
  std::string packed;
  PackedBatchWriter writer(&packed);
  writer.Add(10, plain, true, nullptr, nullptr);
  writer.Add(11, plain, false, &shared, nullptr);
  writer.Add(12, bare, true, nullptr, nullptr);
  writer.Add(13, bare, true, nullptr, &target);
  auto eager = UnpackForwardBatch(Buffer(packed));
  auto deferred = UnpackForwardBatchDeferred(Buffer(packed));
  ASSERT_TRUE(eager.ok() && deferred.ok()) << deferred.status();
  ASSERT_EQ(deferred->forwards.size(), 4u);
  ASSERT_EQ(deferred->unbuilt->size(), 2u);  // the two plain ones
  const auto& f = deferred->forwards;
  EXPECT_EQ(f[0].msg, nullptr);
  EXPECT_NE(f[1].msg, nullptr);  // shared filters: built now
  EXPECT_EQ(f[2].msg, nullptr);
  EXPECT_NE(f[3].msg, nullptr);  // target: built now
  EXPECT_EQ(f[1].shared_filters, shared);
  ASSERT_TRUE(f[3].target.has_value());
  EXPECT_EQ(f[3].target->client_id, "moved");
  for (size_t i : {0u, 2u}) {
    SCOPED_TRACE(i);
    EXPECT_EQ(f[i].seq, 10 + i);
    EXPECT_TRUE(f[i].to_subscribers);
    EXPECT_EQ(deferred->unbuilt->topic(f[i].deferred), (*eager)[i].msg->topic);
    broker::MessagePtr built = deferred->unbuilt->Build(f[i].deferred);
    ASSERT_NE(built, nullptr);
    const broker::Message& want = *(*eager)[i].msg;
    EXPECT_EQ(built->topic, want.topic);
    EXPECT_EQ(built->payload, want.payload);
    EXPECT_EQ(built->qos, want.qos);
    EXPECT_EQ(built->retain, want.retain);
    EXPECT_EQ(built->props(), want.props());
    EXPECT_EQ(built->expiry_at_ms, want.expiry_at_ms);
    EXPECT_EQ(built->origin_client_id, want.origin_client_id);
    EXPECT_EQ(built->origin_node, want.origin_node);
    EXPECT_EQ(built->timestamp_ms, want.timestamp_ms);
    EXPECT_EQ(built->origin_seq, want.origin_seq);
  }
}

TEST(PackedBatchDeferredTest, EveryTruncationIsStillAnError) {
  // A plain message with every optional property: all of it is checked though none is copied.
  std::string packed;
  PackedBatchWriter(&packed).Add(300, FullMessage(), true, nullptr, nullptr);
  for (size_t n = 2; n < packed.size(); ++n) {  // 1 byte: an empty batch
    EXPECT_FALSE(UnpackForwardBatchDeferred(Buffer(packed.substr(0, n))).ok())
        << "prefix of " << n << " bytes decoded";
  }
  EXPECT_TRUE(UnpackForwardBatchDeferred(Buffer(packed)).ok());
  EXPECT_FALSE(UnpackForwardBatchDeferred(nullptr).ok());
}

}  // namespace
}  // namespace meshmq::cluster
