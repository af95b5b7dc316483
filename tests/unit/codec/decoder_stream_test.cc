// Incremental decoding: partial reads, several packets per read, payloads shared not copied,
// version learned from CONNECT, buffer compaction.
#include <gtest/gtest.h>

#include <vector>

#include "codec_test_util.h"

namespace meshmq::codec {
namespace {

using testing::Bytes;
using testing::EncodeToString;
constexpr auto kV311 = ProtocolVersion::kV311;
constexpr auto kV5 = ProtocolVersion::kV5;

// CONNECT(3.1.1, will payload "bye") + PUBLISH qos1 + SUBSCRIBE + PINGREQ + DISCONNECT.
std::vector<Packet> Session311() {
  Connect c;
  c.client_id = "c";
  c.will = Will{"w", SharedBytes("bye"), 0, false, {}};
  Publish p;
  p.qos = 1;
  p.topic = "a/b";
  p.packet_id = 3;
  p.payload = SharedBytes("hello");
  Subscribe s;
  s.packet_id = 4;
  s.subscriptions = {{"a/#", 1}};
  return {c, p, s, Pingreq{}, Disconnect{}};
}

std::string EncodeAll(const std::vector<Packet>& packets, ProtocolVersion v) {
  std::string out;
  for (const auto& p : packets) Encode(p, v, out);
  return out;
}

// Drains the decoder; fails on errors.
void Drain(Decoder& d, std::vector<Packet>& out) {
  while (true) {
    DecodeResult r = d.Next();
    ASSERT_NE(r.status, DecodeStatus::kError) << r.error.detail;
    if (r.status == DecodeStatus::kNeedMore) return;
    out.push_back(std::move(r.packet));
  }
}

TEST(DecoderStream, ByteAtATime) {
  std::vector<Packet> expected = Session311();
  std::string wire = EncodeAll(expected, kV311);
  Decoder d;
  std::vector<Packet> got;
  for (char c : wire) {
    d.Feed(std::string_view(&c, 1));
    Drain(d, got);
  }
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(got[i] == expected[i]) << i;
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(DecoderStream, SeveralPacketsInOneFeedAndSplitAcrossFeeds) {
  std::vector<Packet> expected = Session311();
  std::string wire = EncodeAll(expected, kV311);
  for (std::size_t split = 1; split < wire.size(); ++split) {
    Decoder d;
    std::vector<Packet> got;
    d.Feed(std::string_view(wire).substr(0, split));
    Drain(d, got);
    d.Feed(std::string_view(wire).substr(split));
    Drain(d, got);
    ASSERT_EQ(got.size(), expected.size()) << split;
  }
}

TEST(DecoderStream, NeedMoreKeepsBytesBuffered) {
  Decoder d;
  std::string wire = EncodeAll(Session311(), kV311);
  d.Feed(std::string_view(wire).substr(0, 5));
  EXPECT_EQ(d.Next().status, DecodeStatus::kNeedMore);
  EXPECT_EQ(d.buffered(), 5u);
}

bool InsideBlock(const SharedBytes& b) {
  const std::string& block = *b.block();
  return b.data() >= block.data() && b.data() + b.size() <= block.data() + block.size();
}

TEST(DecoderStream, PayloadsAreSlicesOfOnePacketBlock) {
  std::vector<Packet> packets = Session311();
  Publish second = std::get<Publish>(packets[1]);
  second.packet_id = 9;
  second.payload = SharedBytes("world");
  packets.insert(packets.begin() + 2, second);
  std::string wire = EncodeAll(packets, kV311);
  Decoder d;
  d.Feed(wire);
  std::vector<Packet> got;
  Drain(d, got);
  ASSERT_EQ(got.size(), packets.size());

  const Will& will = *std::get<Connect>(got[0]).will;
  ASSERT_TRUE(will.payload.block());
  EXPECT_TRUE(InsideBlock(will.payload));
  EXPECT_EQ(will.payload.view(), "bye");

  const Publish& p1 = std::get<Publish>(got[1]);
  const Publish& p2 = std::get<Publish>(got[2]);
  ASSERT_TRUE(p1.payload.block() && p2.payload.block());
  EXPECT_TRUE(InsideBlock(p1.payload));
  EXPECT_TRUE(InsideBlock(p2.payload));
  // Each block is exactly its own packet (fixed header included), copied once.
  EXPECT_EQ(*p1.payload.block(), EncodeToString(packets[1], kV311));
  EXPECT_NE(p1.payload.block(), p2.payload.block());
  EXPECT_EQ(p1.payload.data(), p1.payload.block()->data() + p1.payload.block()->size() - 5);
}

TEST(DecoderStream, PayloadOutlivesDecoder) {
  SharedBytes payload;
  {
    Decoder d;
    d.set_version(kV311);
    d.Feed(Bytes({0x30, 0x05, 0, 1, 't', 'h', 'i'}));
    DecodeResult r = d.Next();
    ASSERT_EQ(r.status, DecodeStatus::kPacket);
    payload = std::get<Publish>(r.packet).payload;
    d.Feed(std::string(1000, 'x'));  // the decoder's buffer is reused after the packet
  }
  EXPECT_EQ(payload.view(), "hi");
}

TEST(DecoderStream, VersionLearnedFromConnect) {
  Connect c;
  c.version = kV5;
  c.client_id = "c";
  Publish p;
  p.topic = "t";
  p.properties.message_expiry_interval = 10;
  std::string wire = EncodeToString(c, kV5) + EncodeToString(p, kV5);
  Decoder d;
  EXPECT_EQ(d.version(), kV311);
  d.Feed(wire);
  ASSERT_EQ(d.Next().status, DecodeStatus::kPacket);
  EXPECT_EQ(d.version(), kV5);
  DecodeResult r = d.Next();
  ASSERT_EQ(r.status, DecodeStatus::kPacket) << r.error.detail;
  EXPECT_TRUE(r.packet == Packet(p));
}

TEST(DecoderStream, ClientRoleDecodesServerPackets) {
  Connack ack;
  ack.session_present = true;
  ack.properties.receive_maximum = 5;
  Suback sub;
  sub.packet_id = 1;
  sub.reason_codes = {ReasonCode::kGrantedQos2};
  std::vector<Packet> packets = {ack, sub, Pingresp{}, testing::WithId<Puback>(2)};
  Decoder d(DecodeRole::kClient);
  d.set_version(kV5);
  d.Feed(EncodeAll(packets, kV5));
  std::vector<Packet> got;
  Drain(d, got);
  ASSERT_EQ(got.size(), packets.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(got[i] == packets[i]) << i;
}

TEST(DecoderStream, ManyPacketsInOddChunksCompactBuffer) {
  Decoder d;
  d.set_version(kV311);
  Publish p;
  p.topic = "t/x";
  p.payload = SharedBytes(std::string(100, 'p'));
  std::string one = EncodeToString(p, kV311);
  std::string wire;
  constexpr int kCount = 5000;
  for (int i = 0; i < kCount; ++i) wire += one;
  int decoded = 0;
  for (std::size_t pos = 0; pos < wire.size();) {
    std::size_t n = std::min<std::size_t>(777, wire.size() - pos);
    d.Feed(std::string_view(wire).substr(pos, n));
    pos += n;
    while (true) {
      DecodeResult r = d.Next();
      ASSERT_NE(r.status, DecodeStatus::kError);
      if (r.status == DecodeStatus::kNeedMore) break;
      ASSERT_TRUE(r.packet == Packet(p));
      ++decoded;
    }
    ASSERT_LT(d.buffered(), one.size());
  }
  EXPECT_EQ(decoded, kCount);
}

TEST(DecoderStream, PresetServerVersionSkipsConnectRequirement) {
  Decoder d;
  d.set_version(kV5);
  d.Feed(Bytes({0xC0, 0x00}));
  EXPECT_EQ(d.Next().status, DecodeStatus::kPacket);
}

// FeedBorrowed reads packets in place: the caller's buffer is overwritten after every drain (as
// a shared read buffer would be), so any byte the decoder kept without copying shows up as a
// wrong packet; between packets the decoder owns no memory.
TEST(DecoderStream, BorrowedBytesAtEverySplitOwnNothingBetweenPackets) {
  std::vector<Packet> expected = Session311();
  std::string wire = EncodeAll(expected, kV311);
  for (std::size_t chunk = 1; chunk <= wire.size(); ++chunk) {
    Decoder d;
    std::vector<Packet> got;
    std::string shared_buf;
    for (std::size_t pos = 0; pos < wire.size(); pos += chunk) {
      shared_buf.assign(wire, pos, chunk);
      d.FeedBorrowed(shared_buf);
      Drain(d, got);
      shared_buf.assign(shared_buf.size(), '\xEE');  // the next read reuses the buffer
    }
    ASSERT_EQ(got.size(), expected.size()) << chunk;
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(got[i] == expected[i]) << chunk << " " << i;
    EXPECT_EQ(d.buffered(), 0u);
    EXPECT_EQ(d.owned_capacity(), 0u) << chunk;
  }
}

TEST(DecoderStream, BorrowedIncompleteTailIsCopiedAndAdoptKeepsTheRest) {
  Publish p;
  p.topic = "t";
  p.payload = SharedBytes(std::string(1000, 'x'));
  std::string one = EncodeToString(p, kV311);
  Decoder d;
  d.set_version(kV311);
  std::string buf = one + one.substr(0, 100);  // a tail longer than std::string's inline space
  d.FeedBorrowed(buf);
  DecodeResult r = d.Next();
  ASSERT_EQ(r.status, DecodeStatus::kPacket);
  EXPECT_EQ(d.Next().status, DecodeStatus::kNeedMore);
  EXPECT_EQ(d.buffered(), 100u);
  EXPECT_GE(d.owned_capacity(), 100u);
  EXPECT_LT(d.owned_capacity(), 2 * one.size());  // sized for the packet, not the read
  buf.assign(buf.size(), '\0');
  // A second borrow that is not drained before the buffer changes: Adopt copies it.
  std::string rest = one.substr(100) + one;
  d.FeedBorrowed(rest);
  ASSERT_EQ(d.Next().status, DecodeStatus::kPacket);
  d.Adopt();
  rest.assign(rest.size(), '\0');
  DecodeResult last = d.Next();
  ASSERT_EQ(last.status, DecodeStatus::kPacket);
  EXPECT_TRUE(last.packet == Packet(p));
  EXPECT_EQ(d.owned_capacity(), 0u);
}

}  // namespace
}  // namespace meshmq::codec
