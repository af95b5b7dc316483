// EncodeSessionState / DecodeSessionState: the bytes a session travels as between nodes.
#include "broker/session_codec.h"

#include <random>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meshmq::broker {
namespace {

using ::testing::ElementsAre;

MessagePtr FullMessage() {
  auto m = std::make_shared<Message>();
  m->topic = "a/b";
  m->payload = codec::SharedBytes(std::string("pay\0load", 8));
  m->qos = 2;
  m->retain = true;
  codec::Properties m_props;
  m_props.content_type = "text/plain";
  m_props.response_topic = "reply/to";
  m_props.correlation_data = std::string("\x00\x01", 2);
  m_props.payload_format_indicator = 1;
  m_props.user_properties = {{"k1", "v1"}, {"k1", "v2"}};
  m->set_properties(std::move(m_props));
  m->expiry_at_ms = 1'900'000'000'123;
  m->origin_client_id = "publisher";
  m->origin_node = "node-b";
  m->timestamp_ms = 1'800'000'000'456;
  return m;
}

SessionState FullState() {
  SessionState s;
  s.client_id = "client-1";
  s.version = codec::ProtocolVersion::kV5;
  s.expiry_interval_s = 3600;
  s.next_packet_id = 65535;
  StoredSubscription sub;
  sub.request.filter = "a/+";
  sub.request.qos = 2;
  sub.request.no_local = true;
  sub.request.retain_as_published = true;
  sub.request.retain_handling = 2;
  sub.subscription_id = 268435455;
  s.subscriptions.push_back(sub);
  StoredSubscription shared;
  shared.request.filter = "$share/g/x/#";
  shared.request.qos = 1;
  s.subscriptions.push_back(shared);
  OutboundInflight waiting{7, Delivery{FullMessage(), 2, true, {1, 2}}, false};
  OutboundInflight released{8, Delivery{nullptr, 2, false, {}}, true};
  s.inflight = {waiting, released};
  auto plain = std::make_shared<Message>();
  plain->topic = "q";
  plain->payload = codec::SharedBytes(std::string("x"));
  plain->qos = 1;
  s.queue.push_back(Delivery{plain, 1, false, {}});
  s.queue.push_back(Delivery{FullMessage(), 1, false, {9}});
  s.incoming_qos2 = {3, 65535};
  return s;
}

void ExpectSameMessage(const MessagePtr& got, const MessagePtr& want) {
  ASSERT_TRUE(got);
  EXPECT_EQ(got->topic, want->topic);
  EXPECT_EQ(got->payload.view(), want->payload.view());
  EXPECT_EQ(got->qos, want->qos);
  EXPECT_EQ(got->retain, want->retain);
  EXPECT_EQ(got->props(), want->props());
  EXPECT_EQ(got->expiry_at_ms, want->expiry_at_ms);
  EXPECT_EQ(got->origin_client_id, want->origin_client_id);
  EXPECT_EQ(got->origin_node, want->origin_node);
  EXPECT_EQ(got->timestamp_ms, want->timestamp_ms);
}

TEST(SessionCodecTest, RoundTripKeepsEveryField) {
  SessionState in = FullState();
  std::optional<SessionState> out = DecodeSessionState(EncodeSessionState(in));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->client_id, "client-1");
  EXPECT_EQ(out->version, codec::ProtocolVersion::kV5);
  EXPECT_EQ(out->expiry_interval_s, 3600u);
  EXPECT_EQ(out->next_packet_id, 65535);
  ASSERT_EQ(out->subscriptions.size(), 2u);
  EXPECT_EQ(out->subscriptions[0].request, in.subscriptions[0].request);
  EXPECT_EQ(out->subscriptions[0].subscription_id, 268435455u);
  EXPECT_EQ(out->subscriptions[1].request, in.subscriptions[1].request);
  ASSERT_EQ(out->inflight.size(), 2u);
  EXPECT_EQ(out->inflight[0].packet_id, 7);
  EXPECT_FALSE(out->inflight[0].pubrec_received);
  EXPECT_EQ(out->inflight[0].delivery.qos, 2);
  EXPECT_TRUE(out->inflight[0].delivery.retain);
  EXPECT_THAT(out->inflight[0].delivery.subscription_ids, ElementsAre(1, 2));
  ExpectSameMessage(out->inflight[0].delivery.msg, in.inflight[0].delivery.msg);
  EXPECT_EQ(out->inflight[1].packet_id, 8);
  EXPECT_TRUE(out->inflight[1].pubrec_received);
  EXPECT_FALSE(out->inflight[1].delivery.msg);
  ASSERT_EQ(out->queue.size(), 2u);
  ExpectSameMessage(out->queue[0].msg, in.queue[0].msg);
  EXPECT_FALSE(out->queue[0].msg->expiry_at_ms);
  ExpectSameMessage(out->queue[1].msg, in.queue[1].msg);
  EXPECT_THAT(out->queue[1].subscription_ids, ElementsAre(9));
  EXPECT_THAT(out->incoming_qos2, ElementsAre(3, 65535));
}

TEST(SessionCodecTest, EmptyStateRoundTrips) {
  SessionState in;
  in.client_id = "";
  auto out = DecodeSessionState(EncodeSessionState(in));
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->subscriptions.empty());
  EXPECT_TRUE(out->inflight.empty());
  EXPECT_TRUE(out->queue.empty());
  EXPECT_TRUE(out->incoming_qos2.empty());
}

TEST(SessionCodecTest, EncodingIsDeterministic) {
  EXPECT_EQ(EncodeSessionState(FullState()), EncodeSessionState(FullState()));
}

TEST(SessionCodecTest, GarbageIsRejected) {
  EXPECT_FALSE(DecodeSessionState(""));
  EXPECT_FALSE(DecodeSessionState("MSS"));
  EXPECT_FALSE(DecodeSessionState("XXXX0000000000000000000"));
  EXPECT_FALSE(DecodeSessionState(std::string("MSS1\xff\xff\xff\xff\xff\xff\xff\xff", 12)));
}

TEST(SessionCodecTest, EveryTruncationIsRejected) {
  std::string bytes = EncodeSessionState(FullState());
  // Up to the optional origin_seq trailer the bytes are a complete encoding of the older format.
  size_t older_format = bytes.rfind("OSQ1");
  ASSERT_NE(older_format, std::string::npos);
  for (size_t n = 0; n < bytes.size(); ++n) {
    if (n == older_format) continue;
    EXPECT_FALSE(DecodeSessionState(bytes.substr(0, n))) << "prefix of " << n << " bytes";
  }
}

TEST(SessionCodecTest, OriginSeqRoundTripsAndIsOptional) {
  SessionState in = FullState();
  auto with_seq = [](MessagePtr m, uint64_t seq) {
    auto copy = std::make_shared<Message>(*m);
    copy->origin_seq = seq;
    return MessagePtr(copy);
  };
  in.inflight[0].delivery.msg = with_seq(in.inflight[0].delivery.msg, 11);
  in.queue[1].msg = with_seq(in.queue[1].msg, 22);
  std::string bytes = EncodeSessionState(in);
  auto out = DecodeSessionState(bytes);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->inflight[0].delivery.msg->origin_seq, 11u);
  EXPECT_EQ(out->queue[0].msg->origin_seq, 0u);
  EXPECT_EQ(out->queue[1].msg->origin_seq, 22u);
  // Bytes from before the trailer existed still decode, without origin_seq.
  auto older = DecodeSessionState(bytes.substr(0, bytes.rfind("OSQ1")));
  ASSERT_TRUE(older);
  EXPECT_EQ(older->queue[1].msg->origin_seq, 0u);
}

TEST(SessionCodecTest, RandomCorruptionNeverCrashes) {
  std::string good = EncodeSessionState(FullState());
  std::mt19937 rng(42);
  for (int i = 0; i < 5000; ++i) {
    std::string bytes = good;
    int flips = 1 + rng() % 4;
    for (int k = 0; k < flips; ++k) bytes[4 + rng() % (bytes.size() - 4)] = char(rng());
    auto out = DecodeSessionState(bytes);
    if (out) {
      // Whatever decodes must be usable: a message for every delivery that needs one.
      for (const auto& e : out->inflight) {
        if (!e.pubrec_received) {
          EXPECT_TRUE(e.delivery.msg) << "corruption " << i;
        }
      }
      for (const auto& d : out->queue) EXPECT_TRUE(d.msg) << "corruption " << i;
    }
  }
}

}  // namespace
}  // namespace meshmq::broker
