// Every decode error the codec reports, with its reason code.
#include <gtest/gtest.h>

#include "codec_test_util.h"

namespace meshmq::codec {
namespace {

using testing::Bytes;
using testing::ErrorOf;
constexpr auto kV31 = ProtocolVersion::kV31;
constexpr auto kV311 = ProtocolVersion::kV311;
constexpr auto kV5 = ProtocolVersion::kV5;
constexpr auto kMalformed = ReasonCode::kMalformedPacket;
constexpr auto kProtocol = ReasonCode::kProtocolError;
constexpr auto kTopicInvalid = ReasonCode::kTopicNameInvalid;
constexpr auto kClient = DecodeRole::kClient;

TEST(DecodeErrors, RemainingLengthOverFourBytes) {
  EXPECT_EQ(ErrorOf(Bytes({0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}), kV311), kMalformed);
  Decoder d;
  d.Feed(Bytes({0x10, 0x80, 0x80, 0x80, 0x80}));
  EXPECT_EQ(d.Next().error.reason, kMalformed);
}

TEST(DecodeErrors, ReservedTypeAndFlags) {
  EXPECT_EQ(ErrorOf(Bytes({0x00, 0x00}), kV311), kProtocol);                // type 0
  EXPECT_EQ(ErrorOf(Bytes({0x60, 0x02, 0, 1}), kV311), kMalformed);         // PUBREL needs 0010
  EXPECT_EQ(ErrorOf(Bytes({0x80, 0x04, 0, 1, 0, 0}), kV311), kMalformed);   // SUBSCRIBE
  EXPECT_EQ(ErrorOf(Bytes({0xA0, 0x05, 0, 1, 0, 1, 'a'}), kV311), kMalformed);  // UNSUBSCRIBE
  EXPECT_EQ(ErrorOf(Bytes({0x42, 0x02, 0, 1}), kV311), kMalformed);         // PUBACK needs 0
  EXPECT_EQ(ErrorOf(Bytes({0xC1, 0x00}), kV311), kMalformed);               // PINGREQ
  EXPECT_EQ(ErrorOf(Bytes({0xE8, 0x00}), kV5), kMalformed);                 // DISCONNECT
}

TEST(DecodeErrors, PublishFlags) {
  EXPECT_EQ(ErrorOf(Bytes({0x36, 0x05, 0, 1, 't', 0, 1}), kV311), kMalformed);  // qos 3
  EXPECT_EQ(ErrorOf(Bytes({0x38, 0x03, 0, 1, 't'}), kV311), kMalformed);  // dup with qos 0
}

TEST(DecodeErrors, PacketIdZero) {
  EXPECT_EQ(ErrorOf(Bytes({0x32, 0x05, 0, 1, 't', 0, 0}), kV311), kProtocol);  // PUBLISH
  EXPECT_EQ(ErrorOf(Bytes({0x40, 0x02, 0, 0}), kV311), kProtocol);              // PUBACK
  EXPECT_EQ(ErrorOf(Bytes({0x62, 0x02, 0, 0}), kV5), kProtocol);                // PUBREL
  EXPECT_EQ(ErrorOf(Bytes({0x82, 0x06, 0, 0, 0, 1, 'a', 0}), kV311), kProtocol);
  EXPECT_EQ(ErrorOf(Bytes({0xA2, 0x05, 0, 0, 0, 1, 'a'}), kV311), kProtocol);
  EXPECT_EQ(ErrorOf(Bytes({0x90, 0x03, 0, 0, 0}), kV311, kClient), kProtocol);  // SUBACK
}

TEST(DecodeErrors, PublishTopicName) {
  EXPECT_EQ(ErrorOf(Bytes({0x30, 0x05, 0, 3, 'a', '/', '+'}), kV311), kTopicInvalid);
  EXPECT_EQ(ErrorOf(Bytes({0x30, 0x04, 0, 1, '#', 0}), kV5), kTopicInvalid);
  EXPECT_EQ(ErrorOf(Bytes({0x30, 0x04, 0, 2, 0xC0, 0x80}), kV311), kMalformed);  // overlong
  EXPECT_EQ(ErrorOf(Bytes({0x30, 0x03, 0, 1, 0x00}), kV311), kMalformed);        // U+0000
  EXPECT_EQ(ErrorOf(Bytes({0x30, 0x02, 0, 0}), kV311), kTopicInvalid);   // empty in 3.1.1
  EXPECT_EQ(ErrorOf(Bytes({0x30, 0x03, 0, 0, 0}), kV5), kProtocol);     // empty, no alias
}

TEST(DecodeErrors, StringsAndLengths) {
  // Topic length 10 with only 1 byte left.
  EXPECT_EQ(ErrorOf(Bytes({0x30, 0x03, 0, 10, 't'}), kV311), kMalformed);
  // Truncated packet id.
  EXPECT_EQ(ErrorOf(Bytes({0x32, 0x04, 0, 1, 't', 0}), kV311), kMalformed);
  // Trailing bytes.
  EXPECT_EQ(ErrorOf(Bytes({0x40, 0x03, 0, 1, 0}), kV311), kMalformed);      // 3.x PUBACK
  EXPECT_EQ(ErrorOf(Bytes({0xC0, 0x01, 0}), kV311), kMalformed);            // PINGREQ
  EXPECT_EQ(ErrorOf(Bytes({0xE0, 0x01, 0}), kV311), kMalformed);            // 3.x DISCONNECT
  EXPECT_EQ(ErrorOf(Bytes({0xE0, 0x03, 0, 0, 9}), kV5), kMalformed);        // after properties
  EXPECT_EQ(ErrorOf(Bytes({0xB0, 0x03, 0, 1, 0}), kV311, kClient), kMalformed);  // 3.x UNSUBACK
  EXPECT_EQ(ErrorOf(Bytes({0x20, 0x03, 0, 0, 0}), kV311, kClient), kMalformed);  // 3.x CONNACK
  EXPECT_EQ(ErrorOf(Bytes({0x10, 0x0D, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 0, 0, 0, 'x'}), kV311),
            kMalformed);  // CONNECT
  // Invalid UTF-8 in a topic filter (surrogate U+D800) and in an UNSUBSCRIBE filter.
  EXPECT_EQ(ErrorOf(Bytes({0x82, 0x08, 0, 1, 0, 3, 0xED, 0xA0, 0x80, 0}), kV311), kMalformed);
  EXPECT_EQ(ErrorOf(Bytes({0xA2, 0x05, 0, 1, 0, 1, 0xFF}), kV311), kMalformed);
  // DecodePacket input longer than the packet.
  EXPECT_EQ(ErrorOf(Bytes({0xC0, 0x00, 0x00}), kV311), kMalformed);
}

// CONNECT in 3.1.1 with the given flags byte and payload after the 10-byte variable header.
std::string Connect311(int flags, const std::string& payload) {
  std::string body = Bytes({0, 4, 'M', 'Q', 'T', 'T', 4, flags, 0, 0}) + payload;
  return Bytes({0x10, static_cast<int>(body.size())}) + body;
}

TEST(DecodeErrors, ConnectFlags) {
  std::string id = Bytes({0, 1, 'c'});
  std::string will = Bytes({0, 1, 'w', 0, 0});
  std::string user = Bytes({0, 1, 'u'});
  EXPECT_EQ(ErrorOf(Connect311(0x03, id), kV311), kMalformed);  // reserved bit [MQTT-3.1.2-3]
  EXPECT_EQ(ErrorOf(Connect311(0x1C, id + will), kV311), kMalformed);  // will qos 3
  EXPECT_EQ(ErrorOf(Connect311(0x08, id), kV311), kMalformed);  // will qos without will
  EXPECT_EQ(ErrorOf(Connect311(0x20, id), kV311), kMalformed);  // will retain without will
  EXPECT_EQ(ErrorOf(Connect311(0x40, id + user), kV311), kMalformed);  // password, no user
  EXPECT_EQ(ErrorOf(Connect311(0x02, Bytes({0, 2, 0xC3, 0x28})), kV311), kMalformed);  // id
  EXPECT_EQ(ErrorOf(Connect311(0x80, id + Bytes({0, 1, 0xFF})), kV311), kMalformed);  // user
  EXPECT_EQ(ErrorOf(Connect311(0x04, id + Bytes({0, 1, '+', 0, 0})), kV311), kTopicInvalid);
  EXPECT_EQ(ErrorOf(Connect311(0x04, id + Bytes({0, 1, 'w'})), kV311), kMalformed);  // no payload
  EXPECT_EQ(ErrorOf(Connect311(0x80, id), kV311), kMalformed);  // user flag, no user name
}

// A server decoder fed one CONNECT with protocol `name` and `level`.
Decoder FeedConnect(const std::string& name, int level) {
  std::string body = Bytes({0, static_cast<int>(name.size())}) + name +
                     Bytes({level, 0x02, 0, 0, 0, 0});
  Decoder d;
  d.Feed(Bytes({0x10, static_cast<int>(body.size())}) + body);
  return d;
}

TEST(DecodeErrors, UnsupportedProtocolVersion) {
  struct Case {
    std::string name;
    int level;
    ProtocolVersion answer_in;
  } cases[] = {
      {"MQTT", 3, kV31},     {"MQIsdp", 4, kV311}, {"MQIsdp", 5, kV5},
      {"MQTT", 6, kV311},    {"FOO", 4, kV311},    {"MQTT", 0, kV311},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name + " " + std::to_string(c.level));
    Decoder d = FeedConnect(c.name, c.level);
    DecodeResult r = d.Next();
    ASSERT_EQ(r.status, DecodeStatus::kError);
    EXPECT_EQ(r.error.reason, ReasonCode::kUnsupportedProtocolVersion);
    EXPECT_EQ(d.version(), c.answer_in);
  }
}

TEST(DecodeErrors, MalformedV5ConnectStillSetsVersion) {
  std::string body = Bytes({0, 4, 'M', 'Q', 'T', 'T', 5, 0x03, 0, 0, 0, 0, 0});
  Decoder d;
  d.Feed(Bytes({0x10, static_cast<int>(body.size())}) + body);
  EXPECT_EQ(d.Next().error.reason, kMalformed);
  EXPECT_EQ(d.version(), kV5);  // the broker answers CONNACK 0x81 in the v5 format
}

TEST(DecodeErrors, Subscribe) {
  EXPECT_EQ(ErrorOf(Bytes({0x82, 0x02, 0, 1}), kV311), kProtocol);  // no filter
  EXPECT_EQ(ErrorOf(Bytes({0x82, 0x03, 0, 1, 0}), kV5), kProtocol);  // no filter, v5
  EXPECT_EQ(ErrorOf(Bytes({0x82, 0x06, 0, 1, 0, 1, 'a', 0x04}), kV311), kMalformed);  // bit 2
  EXPECT_EQ(ErrorOf(Bytes({0x82, 0x07, 0, 1, 0, 0, 1, 'a', 0x40}), kV5), kMalformed);  // bit 6
  EXPECT_EQ(ErrorOf(Bytes({0x82, 0x06, 0, 1, 0, 1, 'a', 0x03}), kV311), kMalformed);  // qos 3
  EXPECT_EQ(ErrorOf(Bytes({0x82, 0x07, 0, 1, 0, 0, 1, 'a', 0x30}), kV5), kProtocol);  // rh 3
  EXPECT_EQ(ErrorOf(Bytes({0x82, 0x06, 0, 1, 0, 1, 'a'}), kV311), kMalformed);  // no options
  // no local on a shared subscription [MQTT-3.8.3-4]
  std::string shared = "$share/g/a";
  std::string body = Bytes({0, 1, 0, 0, static_cast<int>(shared.size())}) + shared + Bytes({4});
  EXPECT_EQ(ErrorOf(Bytes({0x82, static_cast<int>(body.size())}) + body, kV5), kProtocol);
}

TEST(DecodeErrors, SubscribeDoesNotCheckFilterSyntax) {
  // The broker answers SUBACK 0x8F per filter, so a bad filter still decodes.
  DecodeResult r = DecodePacket(Bytes({0x82, 0x0A, 0, 1, 0, 5, 'a', '/', '#', '/', 'b', 0}), kV311);
  ASSERT_EQ(r.status, DecodeStatus::kPacket);
  EXPECT_EQ(std::get<Subscribe>(r.packet).subscriptions[0].filter, "a/#/b");
}

TEST(DecodeErrors, Unsubscribe) {
  EXPECT_EQ(ErrorOf(Bytes({0xA2, 0x02, 0, 1}), kV311), kProtocol);
  EXPECT_EQ(ErrorOf(Bytes({0xA2, 0x03, 0, 1, 0}), kV5), kProtocol);
}

TEST(DecodeErrors, Direction) {
  // A server rejects packets only a server sends ...
  EXPECT_EQ(ErrorOf(Bytes({0x20, 0x02, 0, 0}), kV311), kProtocol);
  EXPECT_EQ(ErrorOf(Bytes({0x90, 0x03, 0, 1, 0}), kV311), kProtocol);
  EXPECT_EQ(ErrorOf(Bytes({0xB0, 0x02, 0, 1}), kV311), kProtocol);
  EXPECT_EQ(ErrorOf(Bytes({0xD0, 0x00}), kV5), kProtocol);
  // ... and a client those only a client sends.
  EXPECT_EQ(ErrorOf(Bytes({0x10, 0x00}), kV311, kClient), kProtocol);
  EXPECT_EQ(ErrorOf(Bytes({0x82, 0x02, 0, 1}), kV311, kClient), kProtocol);
  EXPECT_EQ(ErrorOf(Bytes({0xA2, 0x02, 0, 1}), kV311, kClient), kProtocol);
  EXPECT_EQ(ErrorOf(Bytes({0xC0, 0x00}), kV311, kClient), kProtocol);
  // AUTH exists only in 5.0.
  EXPECT_EQ(ErrorOf(Bytes({0xF0, 0x00}), kV311), kProtocol);
  EXPECT_EQ(ErrorOf(Bytes({0xF0, 0x00}), kV31, kClient), kProtocol);
}

TEST(DecodeErrors, ReasonCodes) {
  EXPECT_EQ(ErrorOf(Bytes({0x40, 0x03, 0, 1, 0x92}), kV5), kProtocol);  // PUBACK: not found
  EXPECT_EQ(ErrorOf(Bytes({0x62, 0x03, 0, 1, 0x10}), kV5), kProtocol);  // PUBREL: 0x10
  EXPECT_EQ(ErrorOf(Bytes({0xE0, 0x01, 0x18}), kV5), kProtocol);        // DISCONNECT: 0x18
  EXPECT_EQ(ErrorOf(Bytes({0xF0, 0x02, 0x00 + 0x04, 0}), kV5), kProtocol);  // AUTH: 0x04
  EXPECT_EQ(ErrorOf(Bytes({0x90, 0x04, 0, 1, 0, 0x03}), kV5, kClient), kProtocol);  // SUBACK
  EXPECT_EQ(ErrorOf(Bytes({0xB0, 0x04, 0, 1, 0, 0x01}), kV5, kClient), kProtocol);  // UNSUBACK
  EXPECT_EQ(ErrorOf(Bytes({0x20, 0x03, 0, 0x04, 0}), kV5, kClient), kProtocol);     // CONNACK
  // 3.x return codes outside their tables are malformed.
  EXPECT_EQ(ErrorOf(Bytes({0x20, 0x02, 0, 6}), kV311, kClient), kMalformed);
  EXPECT_EQ(ErrorOf(Bytes({0x20, 0x02, 2, 0}), kV311, kClient), kMalformed);  // reserved flag
  EXPECT_EQ(ErrorOf(Bytes({0x90, 0x03, 0, 1, 3}), kV311, kClient), kMalformed);
}

TEST(DecodeErrors, FirstPacketMustBeConnect) {
  Decoder d;
  d.Feed(Bytes({0xC0, 0x00}));
  DecodeResult r = d.Next();
  EXPECT_EQ(r.status, DecodeStatus::kError);
  EXPECT_EQ(r.error.reason, kProtocol);
}

TEST(DecodeErrors, SecondConnectAndPoisoning) {
  std::string connect = Bytes({0x10, 0x0C, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 0, 0, 0});
  Decoder d;
  d.Feed(connect + connect + Bytes({0xC0, 0x00}));
  EXPECT_EQ(d.Next().status, DecodeStatus::kPacket);
  DecodeResult second = d.Next();
  EXPECT_EQ(second.status, DecodeStatus::kError);
  EXPECT_EQ(second.error.reason, kProtocol);
  DecodeResult after = d.Next();  // poisoned: the PINGREQ is never decoded
  EXPECT_EQ(after.status, DecodeStatus::kError);
  EXPECT_EQ(after.error.reason, kProtocol);
  EXPECT_EQ(after.error.detail, second.error.detail);
}

TEST(DecodeErrors, MaxPacketSizeCheckedFromHeader) {
  Decoder d(DecodeRole::kServer, 10);
  d.set_version(kV311);
  d.Feed(Bytes({0x30, 0x09}));  // header says 11 bytes in total; no body fed yet
  DecodeResult r = d.Next();
  EXPECT_EQ(r.status, DecodeStatus::kError);
  EXPECT_EQ(r.error.reason, ReasonCode::kPacketTooLarge);

  Decoder ok(DecodeRole::kServer, 10);
  ok.set_version(kV311);
  ok.Feed(Bytes({0x30, 0x08, 0, 1, 't', 1, 2, 3, 4, 5}));  // exactly 10 bytes
  EXPECT_EQ(ok.Next().status, DecodeStatus::kPacket);
  ok.set_max_packet_size(4);
  ok.Feed(Bytes({0x30, 0x03}));
  EXPECT_EQ(ok.Next().error.reason, ReasonCode::kPacketTooLarge);
}

}  // namespace
}  // namespace meshmq::codec
