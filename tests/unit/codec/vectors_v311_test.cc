// Byte-exact vectors for every MQTT 3.1.1 packet type (and CONNECT in 3.1), decode and encode.
#include <gtest/gtest.h>

#include "codec_test_util.h"

namespace meshmq::codec {
namespace {

using testing::Bytes;
using testing::ExpectVector;
constexpr auto kV311 = ProtocolVersion::kV311;
constexpr auto kClient = DecodeRole::kClient;

TEST(VectorsV311, ConnectWithWillUserPassword) {
  Connect c;
  c.version = kV311;
  c.clean_start = true;
  c.keep_alive = 60;
  c.client_id = "ab";
  c.will = Will{"w", SharedBytes("x"), 1, true, {}};
  c.username = "u";
  c.password = "p";
  ExpectVector(c, kV311, Bytes({
      0x10, 0x1A,                          // CONNECT, remaining length 26
      0x00, 0x04, 'M', 'Q', 'T', 'T',      // protocol name
      0x04,                                // level 4 = 3.1.1
      0xEE,                                // user|pass|will retain|will qos 1|will|clean
      0x00, 0x3C,                          // keep alive 60
      0x00, 0x02, 'a', 'b',                // client id
      0x00, 0x01, 'w',                     // will topic
      0x00, 0x01, 'x',                     // will payload
      0x00, 0x01, 'u',                     // user name
      0x00, 0x01, 'p',                     // password
  }));
}

TEST(VectorsV311, ConnectMinimalEmptyClientId) {
  Connect c;
  c.clean_start = true;
  ExpectVector(c, kV311, Bytes({
      0x10, 0x0C,                          // CONNECT, remaining length 12
      0x00, 0x04, 'M', 'Q', 'T', 'T',      // protocol name
      0x04,                                // level
      0x02,                                // clean session
      0x00, 0x00,                          // keep alive 0
      0x00, 0x00,                          // empty client id
  }));
}

TEST(VectorsV31, Connect) {
  Connect c;
  c.version = ProtocolVersion::kV31;
  c.clean_start = false;
  c.keep_alive = 10;
  c.client_id = "c";
  ExpectVector(c, ProtocolVersion::kV31, Bytes({
      0x10, 0x0F,                                // CONNECT, remaining length 15
      0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p',  // protocol name of 3.1
      0x03,                                      // level 3
      0x00,                                      // no flags (clean session off)
      0x00, 0x0A,                                // keep alive 10
      0x00, 0x01, 'c',                           // client id
  }));
}

TEST(VectorsV311, Connack) {
  Connack accepted;
  accepted.session_present = true;
  ExpectVector(accepted, kV311, Bytes({0x20, 0x02,  // CONNACK, remaining length 2
                                       0x01,        // session present
                                       0x00}),      // accepted
               kClient);
  Connack refused;
  refused.reason_code = ReasonCode::kNotAuthorized;
  ExpectVector(refused, kV311, Bytes({0x20, 0x02, 0x00,  // no session
                                      0x05}),            // 5 = not authorized
               kClient);
}

TEST(VectorsV311, ConnackV5CodeWrittenAsV3Code) {
  Connack c;
  c.reason_code = ReasonCode::kBanned;  // no 3.x equivalent: mapped to 5 (not authorized)
  EXPECT_EQ(testing::EncodeToString(c, kV311), Bytes({0x20, 0x02, 0x00, 0x05}));
}

TEST(VectorsV311, PublishQos0) {
  Publish p;
  p.topic = "a/b";
  p.payload = SharedBytes("hi");
  ExpectVector(p, kV311, Bytes({
      0x30, 0x07,                // PUBLISH qos 0, remaining length 7
      0x00, 0x03, 'a', '/', 'b', // topic
      'h', 'i',                  // payload
  }));
}

TEST(VectorsV311, PublishQos1DupRetain) {
  Publish p;
  p.dup = true;
  p.qos = 1;
  p.retain = true;
  p.topic = "t";
  p.packet_id = 0x1234;
  p.payload = SharedBytes("p");
  ExpectVector(p, kV311, Bytes({
      0x3B, 0x06,        // PUBLISH dup|qos 1|retain, remaining length 6
      0x00, 0x01, 't',   // topic
      0x12, 0x34,        // packet id
      'p',               // payload
  }));
}

TEST(VectorsV311, PublishQos2EmptyPayload) {
  Publish p;
  p.qos = 2;
  p.topic = "t";
  p.packet_id = 1;
  ExpectVector(p, kV311, Bytes({0x34, 0x05,        // PUBLISH qos 2, remaining length 5
                                0x00, 0x01, 't',   // topic
                                0x00, 0x01}));     // packet id, no payload
}

TEST(VectorsV311, PublishAcks) {
  using testing::WithId;
  ExpectVector(WithId<Puback>(7), kV311, Bytes({0x40, 0x02, 0x00, 0x07}));    // PUBACK id 7
  ExpectVector(WithId<Pubrec>(8), kV311, Bytes({0x50, 0x02, 0x00, 0x08}));    // PUBREC id 8
  ExpectVector(WithId<Pubrel>(9), kV311, Bytes({0x62, 0x02, 0x00, 0x09}));    // PUBREL 0010, id 9
  ExpectVector(WithId<Pubcomp>(10), kV311, Bytes({0x70, 0x02, 0x00, 0x0A}));  // PUBCOMP id 10
}

TEST(VectorsV311, Subscribe) {
  Subscribe s;
  s.packet_id = 10;
  s.subscriptions = {{"a/#", 1}, {"b", 2}};
  ExpectVector(s, kV311, Bytes({
      0x82, 0x0C,                      // SUBSCRIBE flags 0010, remaining length 12
      0x00, 0x0A,                      // packet id
      0x00, 0x03, 'a', '/', '#', 0x01, // filter, qos 1
      0x00, 0x01, 'b', 0x02,           // filter, qos 2
  }));
}

TEST(VectorsV311, Suback) {
  Suback s;
  s.packet_id = 10;
  s.reason_codes = {ReasonCode::kGrantedQos1, ReasonCode::kGrantedQos2,
                    ReasonCode::kUnspecifiedError};
  ExpectVector(s, kV311, Bytes({
      0x90, 0x05,        // SUBACK, remaining length 5
      0x00, 0x0A,        // packet id
      0x01, 0x02, 0x80,  // granted 1, granted 2, failure
  }), kClient);
}

TEST(VectorsV311, Unsubscribe) {
  Unsubscribe u;
  u.packet_id = 11;
  u.filters = {"a/#", "b"};
  ExpectVector(u, kV311, Bytes({
      0xA2, 0x0A,                 // UNSUBSCRIBE flags 0010, remaining length 10
      0x00, 0x0B,                 // packet id
      0x00, 0x03, 'a', '/', '#',  // filter
      0x00, 0x01, 'b',            // filter
  }));
}

TEST(VectorsV311, Unsuback) {
  // UNSUBACK, remaining length 2, packet id 11, no payload.
  ExpectVector(testing::WithId<Unsuback>(11), kV311, Bytes({0xB0, 0x02, 0x00, 0x0B}), kClient);
  Unsuback with_codes{11, {}, {ReasonCode::kSuccess}};
  // 3.x has no reason codes: they are dropped on the wire.
  EXPECT_EQ(testing::EncodeToString(with_codes, kV311), Bytes({0xB0, 0x02, 0x00, 0x0B}));
}

TEST(VectorsV311, PingAndDisconnect) {
  ExpectVector(Pingreq{}, kV311, Bytes({0xC0, 0x00}));
  ExpectVector(Pingresp{}, kV311, Bytes({0xD0, 0x00}), kClient);
  ExpectVector(Disconnect{}, kV311, Bytes({0xE0, 0x00}));
}

TEST(VectorsV311, PropertiesDroppedIn3x) {
  Publish p;
  p.topic = "t";
  p.properties.message_expiry_interval = 5;
  EXPECT_EQ(testing::EncodeToString(p, kV311), Bytes({0x30, 0x03, 0x00, 0x01, 't'}));
}

}  // namespace
}  // namespace meshmq::codec
