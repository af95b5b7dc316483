// MQTT 5.0 properties: every identifier encoded and decoded byte-exactly in a packet that allows
// it, and the property errors: duplicates, out-of-place, bad values, bad encodings.
#include <gtest/gtest.h>

#include <functional>

#include "codec_test_util.h"

namespace meshmq::codec {
namespace {

using testing::Bytes;
using testing::Cat;
using testing::ErrorOf;
using testing::ExpectVector;
constexpr auto kV5 = ProtocolVersion::kV5;

// Where a property is placed for the test; each has a fixed packet around the property block.
enum class Where { kConnect, kWill, kConnack, kPublish, kPuback, kSubscribe, kDisconnect, kAuth };

std::string Len(std::size_t n) { return Bytes({static_cast<int>(n)}); }  // all blocks < 128

// Full wire bytes of the test packet for `where` carrying property bytes `props`.
std::string Wire(Where where, const std::string& props) {
  std::string block = Len(props.size()) + props;
  std::string mqtt5 = Bytes({0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05});
  std::string body;
  int first = 0;
  switch (where) {
    case Where::kConnect:  // flags clean, keep alive 0, props, client id ""
      first = 0x10, body = Cat({mqtt5, Bytes({0x02, 0, 0}), block, Bytes({0, 0})});
      break;
    case Where::kWill:  // flags will|clean, no props, client id "", will props, topic "w", ""
      first = 0x10, body = Cat({mqtt5, Bytes({0x06, 0, 0, 0x00, 0, 0}), block,
                                Bytes({0, 1, 'w', 0, 0})});
      break;
    case Where::kConnack: first = 0x20, body = Bytes({0, 0}) + block; break;
    case Where::kPublish: first = 0x30, body = Bytes({0, 1, 't'}) + block; break;
    case Where::kPuback: first = 0x40, body = Bytes({0, 1, 0}) + block; break;
    case Where::kSubscribe:
      first = 0x82, body = Cat({Bytes({0, 1}), block, Bytes({0, 1, 'a', 0})});
      break;
    case Where::kDisconnect: first = 0xE0, body = Bytes({0}) + block; break;
    case Where::kAuth: first = 0xF0, body = Bytes({0}) + block; break;
  }
  return Bytes({first, static_cast<int>(body.size())}) + body;
}

Packet PacketWith(Where where, const Properties& props) {
  switch (where) {
    case Where::kConnect: {
      Connect c;
      c.version = kV5;
      c.properties = props;
      return c;
    }
    case Where::kWill: {
      Connect c;
      c.version = kV5;
      c.will.emplace();
      c.will->topic = "w";
      c.will->properties = props;
      return c;
    }
    case Where::kConnack: return Connack{false, ReasonCode::kSuccess, props};
    case Where::kPublish: {
      Publish p;
      p.topic = "t";
      p.properties = props;
      return p;
    }
    case Where::kPuback: return Puback{1, ReasonCode::kSuccess, props};
    case Where::kSubscribe: return Subscribe{1, props, {SubscribeRequest{"a", 0}}};
    case Where::kDisconnect: return Disconnect{ReasonCode::kSuccess, props};
    case Where::kAuth: return Auth{ReasonCode::kSuccess, props};
  }
  return Pingreq{};
}

struct Case {
  const char* name;
  Where where;
  std::function<void(Properties&)> set;
  std::string bytes;
};

TEST(Properties, EveryIdentifierEncodesAndDecodes) {
  const Case cases[] = {
      {"payload format", Where::kPublish, [](auto& p) { p.payload_format_indicator = 1; },
       Bytes({0x01, 0x01})},
      {"message expiry", Where::kPublish, [](auto& p) { p.message_expiry_interval = 60; },
       Bytes({0x02, 0, 0, 0, 0x3C})},
      {"content type", Where::kPublish, [](auto& p) { p.content_type = "ct"; },
       Bytes({0x03, 0, 2, 'c', 't'})},
      {"response topic", Where::kPublish, [](auto& p) { p.response_topic = "r"; },
       Bytes({0x08, 0, 1, 'r'})},
      {"correlation data", Where::kPublish,
       [](auto& p) { p.correlation_data = std::string("\x00\xFF", 2); },
       Bytes({0x09, 0, 2, 0x00, 0xFF})},
      {"subscription id", Where::kSubscribe,
       [](auto& p) { p.subscription_identifiers = {268435455}; },
       Bytes({0x0B, 0xFF, 0xFF, 0xFF, 0x7F})},
      {"session expiry", Where::kConnect, [](auto& p) { p.session_expiry_interval = 0xFFFFFFFF; },
       Bytes({0x11, 0xFF, 0xFF, 0xFF, 0xFF})},
      {"assigned client id", Where::kConnack,
       [](auto& p) { p.assigned_client_identifier = "x"; }, Bytes({0x12, 0, 1, 'x'})},
      {"server keep alive", Where::kConnack, [](auto& p) { p.server_keep_alive = 10; },
       Bytes({0x13, 0, 10})},
      {"auth method", Where::kAuth, [](auto& p) { p.authentication_method = "m"; },
       Bytes({0x15, 0, 1, 'm'})},
      {"auth data", Where::kAuth, [](auto& p) { p.authentication_data = "d"; },
       Bytes({0x16, 0, 1, 'd'})},
      {"request problem info", Where::kConnect,
       [](auto& p) { p.request_problem_information = 0; }, Bytes({0x17, 0})},
      {"will delay", Where::kWill, [](auto& p) { p.will_delay_interval = 5; },
       Bytes({0x18, 0, 0, 0, 5})},
      {"request response info", Where::kConnect,
       [](auto& p) { p.request_response_information = 1; }, Bytes({0x19, 1})},
      {"response info", Where::kConnack, [](auto& p) { p.response_information = "i"; },
       Bytes({0x1A, 0, 1, 'i'})},
      {"server reference", Where::kDisconnect, [](auto& p) { p.server_reference = "s"; },
       Bytes({0x1C, 0, 1, 's'})},
      {"reason string", Where::kPuback, [](auto& p) { p.reason_string = "r"; },
       Bytes({0x1F, 0, 1, 'r'})},
      {"receive maximum", Where::kConnect, [](auto& p) { p.receive_maximum = 1; },
       Bytes({0x21, 0, 1})},
      {"topic alias maximum", Where::kConnack, [](auto& p) { p.topic_alias_maximum = 0; },
       Bytes({0x22, 0, 0})},
      {"topic alias", Where::kPublish, [](auto& p) { p.topic_alias = 1; }, Bytes({0x23, 0, 1})},
      {"maximum qos", Where::kConnack, [](auto& p) { p.maximum_qos = 0; }, Bytes({0x24, 0})},
      {"retain available", Where::kConnack, [](auto& p) { p.retain_available = 1; },
       Bytes({0x25, 1})},
      {"user properties in order", Where::kDisconnect,
       [](auto& p) { p.user_properties = {{"k", "v"}, {"k", "w"}}; },
       Bytes({0x26, 0, 1, 'k', 0, 1, 'v', 0x26, 0, 1, 'k', 0, 1, 'w'})},
      {"maximum packet size", Where::kConnect, [](auto& p) { p.maximum_packet_size = 100; },
       Bytes({0x27, 0, 0, 0, 100})},
      {"wildcard available", Where::kConnack,
       [](auto& p) { p.wildcard_subscription_available = 1; }, Bytes({0x28, 1})},
      {"subscription id available", Where::kConnack,
       [](auto& p) { p.subscription_identifier_available = 0; }, Bytes({0x29, 0})},
      {"shared available", Where::kConnack,
       [](auto& p) { p.shared_subscription_available = 1; }, Bytes({0x2A, 1})},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Properties props;
    c.set(props);
    DecodeRole role = c.where == Where::kConnack ? DecodeRole::kClient : DecodeRole::kServer;
    ExpectVector(PacketWith(c.where, props), kV5, Wire(c.where, c.bytes), role);
  }
}

TEST(Properties, WillPropertiesGoToWill) {
  DecodeResult r = DecodePacket(Wire(Where::kWill, Bytes({0x02, 0, 0, 0, 9})), kV5);
  ASSERT_EQ(r.status, DecodeStatus::kPacket);
  const auto& c = std::get<Connect>(r.packet);
  ASSERT_TRUE(c.will.has_value());
  EXPECT_EQ(c.will->properties.message_expiry_interval, 9u);
  EXPECT_TRUE(c.properties == Properties{});
}

TEST(Properties, SeveralSubscriptionIdsInPublishToClient) {
  DecodeResult r = DecodePacket(Wire(Where::kPublish, Bytes({0x0B, 1, 0x0B, 0x80, 0x01})), kV5,
                                DecodeRole::kClient);
  ASSERT_EQ(r.status, DecodeStatus::kPacket) << r.error.detail;
  EXPECT_EQ(std::get<Publish>(r.packet).properties.subscription_identifiers,
            (std::vector<uint32_t>{1, 128}));
}

TEST(Properties, DuplicatesAreProtocolErrors) {
  EXPECT_EQ(ErrorOf(Wire(Where::kPublish, Bytes({0x02, 0, 0, 0, 1, 0x02, 0, 0, 0, 2})), kV5),
            ReasonCode::kProtocolError);
  EXPECT_EQ(ErrorOf(Wire(Where::kConnect, Bytes({0x21, 0, 1, 0x21, 0, 2})), kV5),
            ReasonCode::kProtocolError);
  EXPECT_EQ(ErrorOf(Wire(Where::kAuth, Bytes({0x15, 0, 1, 'm', 0x15, 0, 1, 'm'})), kV5),
            ReasonCode::kProtocolError);
  // Only PUBLISH may repeat the subscription identifier.
  EXPECT_EQ(ErrorOf(Wire(Where::kSubscribe, Bytes({0x0B, 1, 0x0B, 2})), kV5),
            ReasonCode::kProtocolError);
}

TEST(Properties, OutOfPlaceAreProtocolErrors) {
  auto err = [](Where w, std::string props) {
    DecodeRole role = w == Where::kConnack ? DecodeRole::kClient : DecodeRole::kServer;
    return ErrorOf(Wire(w, props), kV5, role);
  };
  EXPECT_EQ(err(Where::kPublish, Bytes({0x11, 0, 0, 0, 1})), ReasonCode::kProtocolError);
  EXPECT_EQ(err(Where::kConnect, Bytes({0x23, 0, 1})), ReasonCode::kProtocolError);
  EXPECT_EQ(err(Where::kConnect, Bytes({0x18, 0, 0, 0, 1})), ReasonCode::kProtocolError);
  EXPECT_EQ(err(Where::kWill, Bytes({0x11, 0, 0, 0, 1})), ReasonCode::kProtocolError);
  EXPECT_EQ(err(Where::kPublish, Bytes({0x1F, 0, 1, 'r'})), ReasonCode::kProtocolError);
  EXPECT_EQ(err(Where::kConnect, Bytes({0x12, 0, 1, 'x'})), ReasonCode::kProtocolError);
  EXPECT_EQ(err(Where::kConnack, Bytes({0x17, 1})), ReasonCode::kProtocolError);
  EXPECT_EQ(err(Where::kDisconnect, Bytes({0x15, 0, 1, 'm'})), ReasonCode::kProtocolError);
  EXPECT_EQ(err(Where::kSubscribe, Bytes({0x1F, 0, 1, 'r'})), ReasonCode::kProtocolError);
  // A client must not send a subscription identifier in PUBLISH [MQTT-3.3.4-6].
  EXPECT_EQ(err(Where::kPublish, Bytes({0x0B, 1})), ReasonCode::kProtocolError);
}

TEST(Properties, BadValues) {
  EXPECT_EQ(ErrorOf(Wire(Where::kSubscribe, Bytes({0x0B, 0})), kV5), ReasonCode::kProtocolError);
  EXPECT_EQ(ErrorOf(Wire(Where::kConnect, Bytes({0x21, 0, 0})), kV5), ReasonCode::kProtocolError);
  EXPECT_EQ(ErrorOf(Wire(Where::kConnect, Bytes({0x27, 0, 0, 0, 0})), kV5),
            ReasonCode::kProtocolError);
  EXPECT_EQ(ErrorOf(Wire(Where::kPublish, Bytes({0x01, 2})), kV5), ReasonCode::kProtocolError);
  EXPECT_EQ(ErrorOf(Wire(Where::kConnect, Bytes({0x17, 2})), kV5), ReasonCode::kProtocolError);
  EXPECT_EQ(ErrorOf(Wire(Where::kConnack, Bytes({0x24, 2})), kV5, DecodeRole::kClient),
            ReasonCode::kProtocolError);
  EXPECT_EQ(ErrorOf(Wire(Where::kPublish, Bytes({0x23, 0, 0})), kV5),
            ReasonCode::kTopicAliasInvalid);
  EXPECT_EQ(ErrorOf(Wire(Where::kPublish, Bytes({0x08, 0, 1, '#'})), kV5),
            ReasonCode::kProtocolError);
}

TEST(Properties, BadEncodingsAreMalformed) {
  // Unknown identifier 0x04.
  EXPECT_EQ(ErrorOf(Wire(Where::kPublish, Bytes({0x04, 0})), kV5), ReasonCode::kMalformedPacket);
  // Value truncated inside the block.
  EXPECT_EQ(ErrorOf(Wire(Where::kPublish, Bytes({0x02, 0, 0})), kV5),
            ReasonCode::kMalformedPacket);
  // Invalid UTF-8 in a string property, and in a user property value.
  EXPECT_EQ(ErrorOf(Wire(Where::kPublish, Bytes({0x03, 0, 2, 0xC0, 0x80})), kV5),
            ReasonCode::kMalformedPacket);
  EXPECT_EQ(ErrorOf(Wire(Where::kDisconnect, Bytes({0x26, 0, 1, 'k', 0, 1, 0xFF})), kV5),
            ReasonCode::kMalformedPacket);
  // Property length larger than the packet: 30 05 | 00 01 't' | 09 (says 9 bytes) | 01.
  EXPECT_EQ(ErrorOf(Bytes({0x30, 0x05, 0, 1, 't', 0x09, 0x01}), kV5),
            ReasonCode::kMalformedPacket);
  // Property length varint longer than four bytes.
  EXPECT_EQ(ErrorOf(Bytes({0x30, 0x08, 0, 1, 't', 0x80, 0x80, 0x80, 0x80, 0x01}), kV5),
            ReasonCode::kMalformedPacket);
}

}  // namespace
}  // namespace meshmq::codec
