// Property test: randomly generated valid packets of every type survive Encode -> Decode for
// every version, through DecodePacket and through a streaming Decoder fed random chunks.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "codec_test_util.h"

namespace meshmq::codec {
namespace {

class Gen {
 public:
  Gen(uint32_t seed, ProtocolVersion v) : rng_(seed), v5_(v == ProtocolVersion::kV5) {}

  uint32_t Int(uint32_t lo, uint32_t hi) {
    return std::uniform_int_distribution<uint32_t>(lo, hi)(rng_);
  }
  bool Coin() { return Int(0, 1) == 1; }
  uint16_t Id() { return static_cast<uint16_t>(Int(1, 65535)); }

  std::string Text(std::size_t max = 12) {
    static const char* const kPieces[] = {"a", "b", "/", "x", "\xC3\xA9", "\xE2\x82\xAC", "$"};
    std::string s;
    for (std::size_t n = Int(0, static_cast<uint32_t>(max)); n > 0; --n) s += kPieces[Int(0, 6)];
    return s;
  }
  std::string Topic() { return "t" + Text(); }
  std::string Binary() {
    std::string s(Int(0, 20), '\0');
    for (char& c : s) c = static_cast<char>(Int(0, 255));
    return s;
  }
  ReasonCode Code(std::initializer_list<uint8_t> allowed) {
    return static_cast<ReasonCode>(*(allowed.begin() + Int(0, allowed.size() - 1)));
  }

  // Properties allowed in the given packet; empty for 3.x, where they are not on the wire.
  Properties Props(PacketType type, bool will = false) {
    Properties p;
    if (!v5_) return p;
    if (Coin()) p.user_properties.emplace_back(Text(), Text());
    if (will || type == PacketType::kPublish) {
      if (Coin()) p.payload_format_indicator = static_cast<uint8_t>(Int(0, 1));
      if (Coin()) p.message_expiry_interval = Int(0, 0xFFFFFFFF);
      if (Coin()) p.content_type = Text();
      if (Coin()) p.response_topic = Topic();
      if (Coin()) p.correlation_data = Binary();
    }
    if (will && Coin()) p.will_delay_interval = Int(0, 1000);
    if (type == PacketType::kPublish && !will && Coin()) {
      p.topic_alias = static_cast<uint16_t>(Int(1, 100));
    }
    if (type == PacketType::kSubscribe && Coin()) p.subscription_identifiers = {Int(1, 268435455)};
    if (will) return p;
    if (type == PacketType::kConnect || type == PacketType::kConnack) {
      if (Coin()) p.session_expiry_interval = Int(0, 0xFFFFFFFF);
      if (Coin()) p.receive_maximum = static_cast<uint16_t>(Int(1, 65535));
      if (Coin()) p.maximum_packet_size = Int(1, 1 << 20);
      if (Coin()) p.topic_alias_maximum = static_cast<uint16_t>(Int(0, 10));
      if (Coin()) p.authentication_method = Text();
    }
    if (type == PacketType::kConnack && Coin()) p.assigned_client_identifier = Text();
    if (type == PacketType::kConnack && Coin()) p.maximum_qos = static_cast<uint8_t>(Int(0, 1));
    if (type == PacketType::kConnect && Coin()) p.request_problem_information = 1;
    if (type != PacketType::kConnect && type != PacketType::kPublish &&
        type != PacketType::kSubscribe && type != PacketType::kUnsubscribe && Coin()) {
      p.reason_string = Text();
    }
    return p;
  }

  Packet Any(ProtocolVersion v);

 private:
  std::mt19937 rng_;
  bool v5_;
};

Packet Gen::Any(ProtocolVersion v) {
  switch (Int(0, 12)) {
    case 0: {
      Publish p;
      p.qos = static_cast<uint8_t>(Int(0, 2));
      p.dup = p.qos > 0 && Coin();
      p.retain = Coin();
      p.topic = Topic();
      if (p.qos) p.packet_id = Id();
      p.properties = Props(PacketType::kPublish);
      p.payload = SharedBytes(Binary());
      return p;
    }
    case 1: return Puback{Id(), v5_ ? Code({0x00, 0x10, 0x80, 0x97}) : ReasonCode::kSuccess,
                          Props(PacketType::kPuback)};
    case 2: return Pubrec{Id(), v5_ ? Code({0x00, 0x10, 0x91}) : ReasonCode::kSuccess,
                          Props(PacketType::kPubrec)};
    case 3: return Pubrel{Id(), v5_ ? Code({0x00, 0x92}) : ReasonCode::kSuccess,
                          Props(PacketType::kPubrel)};
    case 4: return Pubcomp{Id(), v5_ ? Code({0x00, 0x92}) : ReasonCode::kSuccess,
                           Props(PacketType::kPubcomp)};
    case 5: {
      Subscribe s{Id(), Props(PacketType::kSubscribe), {}};
      for (uint32_t n = Int(1, 4); n > 0; --n) {
        SubscribeRequest r;
        r.filter = Text();
        r.qos = static_cast<uint8_t>(Int(0, 2));
        if (v5_) {
          r.no_local = Coin();
          r.retain_as_published = Coin();
          r.retain_handling = static_cast<uint8_t>(Int(0, 2));
        }
        s.subscriptions.push_back(r);
      }
      return s;
    }
    case 6: {
      Unsubscribe u{Id(), Props(PacketType::kUnsubscribe), {}};
      for (uint32_t n = Int(1, 4); n > 0; --n) u.filters.push_back(Text());
      return u;
    }
    case 7: return Pingreq{};
    case 8: return Disconnect{v5_ ? Code({0x00, 0x04, 0x80, 0x8E}) : ReasonCode::kSuccess,
                              Props(PacketType::kDisconnect)};
    case 9:
      if (v5_) return Auth{Code({0x00, 0x18, 0x19}), Props(PacketType::kAuth)};
      return Pingreq{};
    default: {
      Connect c;
      c.version = v;
      c.clean_start = Coin();
      c.keep_alive = static_cast<uint16_t>(Int(0, 65535));
      c.client_id = Text();
      if (Coin()) {
        Will w{Topic(), SharedBytes(Binary()), static_cast<uint8_t>(Int(0, 2)), Coin(),
               Props(PacketType::kPublish, true)};
        c.will = w;
      }
      if (Coin()) c.username = Text();
      if ((c.username || v5_) && Coin()) c.password = Binary();
      c.properties = Props(PacketType::kConnect);
      return c;
    }
  }
}

// Server-to-client packets, decoded with the client role.
Packet ServerPacket(Gen& g, bool v5) {
  switch (g.Int(0, 3)) {
    case 0: return Connack{g.Coin(), v5 ? g.Code({0x00, 0x80, 0x87, 0x9C}) : g.Code({0x00, 0x84,
                           0x85, 0x88, 0x86, 0x87}), g.Props(PacketType::kConnack)};
    case 1: return Suback{g.Id(), g.Props(PacketType::kSuback),
                          {g.Code({0x00, 0x01, 0x02, 0x80}), g.Code({0x01, 0x80})}};
    case 2: return Unsuback{g.Id(), g.Props(PacketType::kUnsuback),
                            v5 ? std::vector<ReasonCode>{g.Code({0x00, 0x11})}
                               : std::vector<ReasonCode>{}};
    default: return Pingresp{};
  }
}

void CheckRoundTrip(const Packet& p, ProtocolVersion v, DecodeRole role) {
  std::string wire = testing::EncodeToString(p, v);
  ASSERT_EQ(EncodedSize(p, v), wire.size());
  DecodeResult r = DecodePacket(wire, v, role);
  ASSERT_EQ(r.status, DecodeStatus::kPacket) << PacketTypeName(TypeOf(p)) << ": "
                                             << r.error.detail;
  ASSERT_TRUE(r.packet == p) << PacketTypeName(TypeOf(p));
}

class RoundTrip : public ::testing::TestWithParam<ProtocolVersion> {};

TEST_P(RoundTrip, GeneratedClientPackets) {
  ProtocolVersion v = GetParam();
  Gen g(1234 + static_cast<int>(v), v);
  for (int i = 0; i < 3000; ++i) CheckRoundTrip(g.Any(v), v, DecodeRole::kServer);
}

TEST_P(RoundTrip, GeneratedServerPackets) {
  ProtocolVersion v = GetParam();
  Gen g(99 + static_cast<int>(v), v);
  for (int i = 0; i < 2000; ++i) {
    CheckRoundTrip(ServerPacket(g, v == ProtocolVersion::kV5), v, DecodeRole::kClient);
  }
}

TEST_P(RoundTrip, StreamedThroughDecoderInRandomChunks) {
  ProtocolVersion v = GetParam();
  Gen g(7, v);
  std::vector<Packet> sent;
  std::string wire;
  for (int i = 0; i < 500; ++i) {
    Packet p = g.Any(v);
    if (std::holds_alternative<Connect>(p)) continue;  // only one CONNECT per stream
    Encode(p, v, wire);
    sent.push_back(std::move(p));
  }
  Decoder d;
  d.set_version(v);
  std::size_t next = 0;
  for (std::size_t pos = 0; pos < wire.size();) {
    std::size_t n = std::min<std::size_t>(g.Int(1, 200), wire.size() - pos);
    d.Feed(std::string_view(wire).substr(pos, n));
    pos += n;
    for (DecodeResult r = d.Next(); r.status != DecodeStatus::kNeedMore; r = d.Next()) {
      ASSERT_EQ(r.status, DecodeStatus::kPacket) << r.error.detail;
      ASSERT_LT(next, sent.size());
      ASSERT_TRUE(r.packet == sent[next]) << next;
      ++next;
    }
  }
  EXPECT_EQ(next, sent.size());
}

INSTANTIATE_TEST_SUITE_P(AllVersions, RoundTrip,
                         ::testing::Values(ProtocolVersion::kV31, ProtocolVersion::kV311,
                                           ProtocolVersion::kV5));

}  // namespace
}  // namespace meshmq::codec
