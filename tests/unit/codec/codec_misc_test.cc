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

TEST(Encoder, AppendsToExistingBuffer) {
  std::string out = "prefix";
  Encode(Pingreq{}, ProtocolVersion::kV311, out);
  Encode(Pingresp{}, ProtocolVersion::kV311, out);
  EXPECT_EQ(out, "prefix" + Bytes({0xC0, 0x00, 0xD0, 0x00}));
}

}  // namespace
}  // namespace meshmq::codec
