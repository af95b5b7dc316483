// Reason code mapping and names, packet type names, variable byte integers, EncodePublishHeader.
#include <gtest/gtest.h>

#include <set>

#include "codec_test_util.h"

namespace meshmq::codec {
namespace {

using testing::Bytes;

TEST(ReasonCodes, ToV3ConnackCode) {
  using R = ReasonCode;
  using C = ConnackReturnCode;
  EXPECT_EQ(ToV3ConnackCode(R::kSuccess), C::kAccepted);
  EXPECT_EQ(ToV3ConnackCode(R::kUnsupportedProtocolVersion), C::kUnacceptableProtocolVersion);
  EXPECT_EQ(ToV3ConnackCode(R::kClientIdentifierNotValid), C::kIdentifierRejected);
  EXPECT_EQ(ToV3ConnackCode(R::kServerUnavailable), C::kServerUnavailable);
  EXPECT_EQ(ToV3ConnackCode(R::kServerBusy), C::kServerUnavailable);
  EXPECT_EQ(ToV3ConnackCode(R::kBadUserNameOrPassword), C::kBadUserNameOrPassword);
  EXPECT_EQ(ToV3ConnackCode(R::kNotAuthorized), C::kNotAuthorized);
  EXPECT_EQ(ToV3ConnackCode(R::kBanned), C::kNotAuthorized);
  EXPECT_EQ(ToV3ConnackCode(R::kBadAuthenticationMethod), C::kNotAuthorized);
  // Everything else has no 3.x counterpart and becomes "server unavailable".
  EXPECT_EQ(ToV3ConnackCode(R::kMalformedPacket), C::kServerUnavailable);
  EXPECT_EQ(ToV3ConnackCode(R::kQuotaExceeded), C::kServerUnavailable);
  EXPECT_EQ(ToV3ConnackCode(R::kUseAnotherServer), C::kServerUnavailable);
}

TEST(ReasonCodes, NamesAreDistinct) {
  std::set<std::string_view> names;
  int count = 0;
  for (int code = 0; code < 256; ++code) {
    std::string_view name = ReasonCodeName(static_cast<ReasonCode>(code));
    if (name == "Unknown reason code") continue;
    names.insert(name);
    ++count;
  }
  EXPECT_EQ(count, 43);
  EXPECT_EQ(names.size(), 43u);
  EXPECT_EQ(ReasonCodeName(ReasonCode::kMalformedPacket), "Malformed Packet");
}

TEST(PacketTypes, TypeOfAndNames) {
  EXPECT_EQ(TypeOf(Connect{}), PacketType::kConnect);
  EXPECT_EQ(TypeOf(Pubrel{}), PacketType::kPubrel);
  EXPECT_EQ(TypeOf(Pubcomp{}), PacketType::kPubcomp);
  EXPECT_EQ(TypeOf(Auth{}), PacketType::kAuth);
  EXPECT_EQ(PacketTypeName(PacketType::kUnsuback), "UNSUBACK");
  EXPECT_EQ(PacketTypeName(TypeOf(Publish{})), "PUBLISH");
}

TEST(VarInt, SpecBoundaries) {
  struct Case {
    uint32_t value;
    std::string bytes;
  } cases[] = {
      {0, Bytes({0x00})},
      {127, Bytes({0x7F})},
      {128, Bytes({0x80, 0x01})},
      {16383, Bytes({0xFF, 0x7F})},
      {16384, Bytes({0x80, 0x80, 0x01})},
      {2097151, Bytes({0xFF, 0xFF, 0x7F})},
      {2097152, Bytes({0x80, 0x80, 0x80, 0x01})},
      {268435455, Bytes({0xFF, 0xFF, 0xFF, 0x7F})},
  };
  for (const auto& c : cases) {
    std::string out = "x";
    AppendVarInt(c.value, out);
    EXPECT_EQ(out, "x" + c.bytes) << c.value;
    EXPECT_EQ(VarIntSize(c.value), c.bytes.size()) << c.value;
  }
}

TEST(Encoder, LargeRemainingLength) {
  Publish p;
  p.topic = "t";
  p.payload = SharedBytes(std::string(200, 'z'));
  std::string wire = testing::EncodeToString(p, ProtocolVersion::kV311);
  EXPECT_EQ(wire.substr(0, 3), Bytes({0x30, 0xCB, 0x01}));  // 203 = 0xCB 0x01
  EXPECT_EQ(wire.size(), 206u);
}

TEST(Encoder, PublishHeaderLeavesOutPayload) {
  Publish p;
  p.qos = 2;
  p.retain = true;
  p.topic = "a";
  p.packet_id = 2;
  p.properties.topic_alias = 1;
  p.payload = SharedBytes("payload");
  std::string header;
  EncodePublishHeader(p, ProtocolVersion::kV5, header);
  EXPECT_EQ(header, Bytes({0x35, 0x10,             // PUBLISH qos 2 retain, remaining 16
                           0x00, 0x01, 'a',        // topic
                           0x00, 0x02,             // packet id
                           0x03, 0x23, 0x00, 0x01  // topic alias 1
                          }));
  EXPECT_EQ(header + "payload", testing::EncodeToString(p, ProtocolVersion::kV5));
}

// What a broker sends per delivery: the message's topic and properties by reference, with the
// subscriber's own identifiers, remaining expiry and topic alias in place of the message's.
TEST(Encoder, PublishHeaderEncodesTheMessageWithTheSubscribersValues) {
  Properties message_props;
  message_props.content_type = "text";
  message_props.message_expiry_interval = 100;
  message_props.subscription_identifiers = {9};
  message_props.user_properties = {{"k", "v"}};
  const std::vector<uint32_t> ids = {3, 4};
  PublishHeader h;
  h.qos = 1;
  h.retain = true;
  h.topic = "a/b";
  h.packet_id = 7;
  h.payload_size = 5;
  h.properties = &message_props;
  h.subscription_identifiers = &ids;
  h.message_expiry_interval = 42;
  h.topic_alias = 5;

  Publish expected;
  expected.qos = 1;
  expected.retain = true;
  expected.topic = "a/b";
  expected.packet_id = 7;
  expected.properties = message_props;
  expected.properties.subscription_identifiers = {3, 4};
  expected.properties.message_expiry_interval = 42;
  expected.properties.topic_alias = 5;
  expected.payload = SharedBytes("hello");

  std::string bytes;
  EncodePublishHeader(h, ProtocolVersion::kV5, bytes);
  bytes += "hello";
  EXPECT_EQ(bytes, testing::EncodeToString(expected, ProtocolVersion::kV5));
  DecodeResult r = DecodePacket(bytes, ProtocolVersion::kV5, DecodeRole::kClient);
  ASSERT_EQ(r.status, DecodeStatus::kPacket) << r.error.detail;
  EXPECT_TRUE(r.packet == Packet(expected));
  EXPECT_TRUE(ToPublish(h, SharedBytes("hello")) == expected);
  EXPECT_EQ(message_props.subscription_identifiers, std::vector<uint32_t>{9});  // untouched

  // Without replacements the message's own values go out; v3.1.1 carries no properties.
  PublishHeader plain = h;
  plain.subscription_identifiers = nullptr;
  plain.message_expiry_interval.reset();
  plain.topic_alias.reset();
  expected.properties = message_props;
  std::string v5;
  EncodePublishHeader(plain, ProtocolVersion::kV5, v5);
  EXPECT_EQ(v5 + "hello", testing::EncodeToString(expected, ProtocolVersion::kV5));
  std::string v311;
  EncodePublishHeader(h, ProtocolVersion::kV311, v311);
  expected.properties = {};
  EXPECT_EQ(v311 + "hello", testing::EncodeToString(expected, ProtocolVersion::kV311));

  // A message without properties, an alias instead of the topic.
  PublishHeader aliased;
  aliased.topic_alias = 2;
  aliased.subscription_identifiers = &ids;
  aliased.payload_size = 5;
  Publish alias_expected;
  alias_expected.properties.topic_alias = 2;
  alias_expected.properties.subscription_identifiers = {3, 4};
  alias_expected.payload = SharedBytes("hello");
  std::string a;
  EncodePublishHeader(aliased, ProtocolVersion::kV5, a);
  EXPECT_EQ(a + "hello", testing::EncodeToString(alias_expected, ProtocolVersion::kV5));
}

TEST(Encoder, AppendsToExistingBuffer) {
  std::string out = "prefix";
  Encode(Pingreq{}, ProtocolVersion::kV311, out);
  Encode(Pingresp{}, ProtocolVersion::kV311, out);
  EXPECT_EQ(out, "prefix" + Bytes({0xC0, 0x00, 0xD0, 0x00}));
}

}  // namespace
}  // namespace meshmq::codec
