// Byte-exact vectors for every MQTT 5.0 packet type, decode and encode, including the short
// forms of the acknowledgements, DISCONNECT and AUTH.
#include <gtest/gtest.h>

#include "codec_test_util.h"

namespace meshmq::codec {
namespace {

using testing::Bytes;
using testing::ExpectVector;
constexpr auto kV5 = ProtocolVersion::kV5;
constexpr auto kClient = DecodeRole::kClient;

TEST(VectorsV5, ConnectWithPropertiesWillAndPasswordOnly) {
  Connect c;
  c.version = kV5;
  c.keep_alive = 30;
  c.client_id = "id";
  c.properties.session_expiry_interval = 120;
  c.properties.receive_maximum = 10;
  c.will.emplace();
  c.will->topic = "w";
  c.will->payload = SharedBytes("bye");
  c.will->properties.will_delay_interval = 5;
  c.password = "pw";  // allowed without a user name in 5.0
  ExpectVector(c, kV5, Bytes({
      0x10, 0x29,                        // CONNECT, remaining length 41
      0x00, 0x04, 'M', 'Q', 'T', 'T',    // protocol name
      0x05,                              // level 5
      0x46,                              // password | will | clean start
      0x00, 0x1E,                        // keep alive 30
      0x08,                              // property length 8
      0x11, 0x00, 0x00, 0x00, 0x78,      //   session expiry 120
      0x21, 0x00, 0x0A,                  //   receive maximum 10
      0x00, 0x02, 'i', 'd',              // client id
      0x05,                              // will property length 5
      0x18, 0x00, 0x00, 0x00, 0x05,      //   will delay 5
      0x00, 0x01, 'w',                   // will topic
      0x00, 0x03, 'b', 'y', 'e',         // will payload
      0x00, 0x02, 'p', 'w',              // password
  }));
}

TEST(VectorsV5, Connack) {
  Connack c;
  c.properties.assigned_client_identifier = "ab";
  c.properties.topic_alias_maximum = 5;
  ExpectVector(c, kV5, Bytes({
      0x20, 0x0B,                  // CONNACK, remaining length 11
      0x00,                        // no session present
      0x00,                        // success
      0x08,                        // property length 8
      0x12, 0x00, 0x02, 'a', 'b',  //   assigned client id
      0x22, 0x00, 0x05,            //   topic alias maximum 5
  }), kClient);
  Connack refused;
  refused.reason_code = ReasonCode::kBadAuthenticationMethod;
  ExpectVector(refused, kV5, Bytes({0x20, 0x03, 0x00, 0x8C, 0x00}), kClient);  // no properties
}

TEST(VectorsV5, PublishWithProperties) {
  Publish p;
  p.qos = 1;
  p.topic = "t";
  p.packet_id = 1;
  p.properties.payload_format_indicator = 1;
  p.properties.topic_alias = 2;
  p.payload = SharedBytes("x");
  ExpectVector(p, kV5, Bytes({
      0x32, 0x0C,         // PUBLISH qos 1, remaining length 12
      0x00, 0x01, 't',    // topic
      0x00, 0x01,         // packet id
      0x05,               // property length 5
      0x01, 0x01,         //   payload format: UTF-8
      0x23, 0x00, 0x02,   //   topic alias 2
      'x',                // payload
  }));
}

TEST(VectorsV5, PublishEmptyTopicWithAlias) {
  Publish p;
  p.topic = "";
  p.properties.topic_alias = 7;
  p.payload = SharedBytes("z");
  ExpectVector(p, kV5, Bytes({
      0x30, 0x07,              // PUBLISH qos 0, remaining length 7
      0x00, 0x00,              // empty topic
      0x03, 0x23, 0x00, 0x07,  // properties: topic alias 7
      'z',                     // payload
  }));
}

TEST(VectorsV5, PublishAckShortAndLongForms) {
  // Success without properties: reason code and property length omitted.
  ExpectVector(testing::WithId<Puback>(1), kV5, Bytes({0x40, 0x02, 0x00, 0x01}));
  Puback no_subscribers{1, ReasonCode::kNoMatchingSubscribers, {}};
  ExpectVector(no_subscribers, kV5, Bytes({0x40, 0x03,      // remaining length 3
                                           0x00, 0x01,      // packet id
                                           0x10}));         // reason, no property length
  Pubrec rec{2, ReasonCode::kUnspecifiedError, {}};
  rec.properties.reason_string = "no";
  ExpectVector(rec, kV5, Bytes({
      0x50, 0x09,                   // PUBREC, remaining length 9
      0x00, 0x02,                   // packet id
      0x80,                         // unspecified error
      0x05,                         // property length 5
      0x1F, 0x00, 0x02, 'n', 'o',   //   reason string
  }));
  ExpectVector(Pubrel{3, ReasonCode::kPacketIdentifierNotFound, {}}, kV5,
               Bytes({0x62, 0x03, 0x00, 0x03, 0x92}));  // PUBREL, id 3, not found
  ExpectVector(testing::WithId<Pubcomp>(4), kV5, Bytes({0x70, 0x02, 0x00, 0x04}));
}

TEST(VectorsV5, AckWithSuccessAndPropertyLengthZeroDecodes) {
  // A peer may send the long form with an empty property block; it decodes to the same value.
  DecodeResult r = DecodePacket(Bytes({0x40, 0x04, 0x00, 0x01, 0x00, 0x00}), kV5);
  ASSERT_EQ(r.status, DecodeStatus::kPacket);
  EXPECT_TRUE(r.packet == Packet(testing::WithId<Puback>(1)));
}

TEST(VectorsV5, Subscribe) {
  Subscribe s;
  s.packet_id = 5;
  s.properties.subscription_identifiers = {7};
  SubscribeRequest req;
  req.filter = "a/+";
  req.qos = 1;
  req.no_local = true;
  req.retain_as_published = true;
  req.retain_handling = 2;
  s.subscriptions = {req};
  ExpectVector(s, kV5, Bytes({
      0x82, 0x0B,                  // SUBSCRIBE, remaining length 11
      0x00, 0x05,                  // packet id
      0x02, 0x0B, 0x07,            // properties: subscription identifier 7
      0x00, 0x03, 'a', '/', '+',   // filter
      0x2D,                        // retain handling 2 | rap | no local | qos 1
  }));
}

TEST(VectorsV5, Suback) {
  Suback s;
  s.packet_id = 5;
  s.reason_codes = {ReasonCode::kGrantedQos1, ReasonCode::kTopicFilterInvalid,
                    ReasonCode::kWildcardSubscriptionsNotSupported};
  ExpectVector(s, kV5, Bytes({
      0x90, 0x06,        // SUBACK, remaining length 6
      0x00, 0x05,        // packet id
      0x00,              // no properties
      0x01, 0x8F, 0xA2,  // granted 1, filter invalid, wildcards not supported
  }), kClient);
}

TEST(VectorsV5, Unsubscribe) {
  Unsubscribe u;
  u.packet_id = 6;
  u.properties.user_properties = {{"k", "v"}};
  u.filters = {"x"};
  ExpectVector(u, kV5, Bytes({
      0xA2, 0x0D,                               // UNSUBSCRIBE, remaining length 13
      0x00, 0x06,                               // packet id
      0x07,                                     // property length 7
      0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v',   //   user property k=v
      0x00, 0x01, 'x',                          // filter
  }));
}

TEST(VectorsV5, Unsuback) {
  Unsuback u;
  u.packet_id = 6;
  u.reason_codes = {ReasonCode::kNoSubscriptionExisted};
  ExpectVector(u, kV5, Bytes({0xB0, 0x04,    // UNSUBACK, remaining length 4
                              0x00, 0x06,    // packet id
                              0x00,          // no properties
                              0x11}),        // no subscription existed
               kClient);
}

TEST(VectorsV5, Ping) {
  ExpectVector(Pingreq{}, kV5, Bytes({0xC0, 0x00}));
  ExpectVector(Pingresp{}, kV5, Bytes({0xD0, 0x00}), kClient);
}

TEST(VectorsV5, Disconnect) {
  ExpectVector(Disconnect{}, kV5, Bytes({0xE0, 0x00}));  // normal, everything omitted
  ExpectVector(Disconnect{ReasonCode::kDisconnectWithWill, {}}, kV5,
               Bytes({0xE0, 0x01, 0x04}));  // reason only, property length omitted
  Disconnect moved{ReasonCode::kUseAnotherServer, {}};
  moved.properties.server_reference = "h";
  ExpectVector(moved, kV5, Bytes({
      0xE0, 0x06,               // DISCONNECT, remaining length 6
      0x9C,                     // use another server
      0x04,                     // property length 4
      0x1C, 0x00, 0x01, 'h',    //   server reference
  }), kClient);
}

TEST(VectorsV5, Auth) {
  ExpectVector(Auth{}, kV5, Bytes({0xF0, 0x00}));
  Auth a{ReasonCode::kContinueAuthentication, {}};
  a.properties.authentication_method = "SCR";
  a.properties.authentication_data = "d";
  ExpectVector(a, kV5, Bytes({
      0xF0, 0x0C,                        // AUTH, remaining length 12
      0x18,                              // continue authentication
      0x0A,                              // property length 10
      0x15, 0x00, 0x03, 'S', 'C', 'R',   //   authentication method
      0x16, 0x00, 0x01, 'd',             //   authentication data
  }));
  ExpectVector(Auth{ReasonCode::kReauthenticate, {}}, kV5,
               Bytes({0xF0, 0x02, 0x19, 0x00}));  // AUTH keeps the property length
}

}  // namespace
}  // namespace meshmq::codec
