// Helpers shared by the codec tests.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "codec/decoder.h"
#include "codec/encoder.h"

namespace meshmq::codec::testing {

// Wire bytes from a list of byte values, so vectors can be annotated one byte per entry.
inline std::string Bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

// A packet with only its packet identifier set (aggregate init would trip
// -Wmissing-field-initializers).
template <typename T>
T WithId(uint16_t id) {
  T t;
  t.packet_id = id;
  return t;
}

inline std::string Cat(std::initializer_list<std::string> parts) {
  std::string out;
  for (const auto& p : parts) out += p;
  return out;
}

inline std::string EncodeToString(const Packet& packet, ProtocolVersion version) {
  std::string out;
  Encode(packet, version, out);
  return out;
}

// Asserts that `bytes` decodes to `packet` and that `packet` encodes to exactly `bytes`.
inline void ExpectVector(const Packet& packet, ProtocolVersion version, const std::string& bytes,
                         DecodeRole role = DecodeRole::kServer) {
  EXPECT_EQ(EncodeToString(packet, version), bytes);
  EXPECT_EQ(EncodedSize(packet, version), bytes.size());
  DecodeResult r = DecodePacket(bytes, version, role);
  ASSERT_EQ(r.status, DecodeStatus::kPacket) << r.error.detail;
  EXPECT_TRUE(r.packet == packet) << PacketTypeName(TypeOf(packet));
}

// Decodes `bytes` and returns the error; fails the test if it decodes.
inline DecodeError DecodeError_(const std::string& bytes, ProtocolVersion version,
                                DecodeRole role = DecodeRole::kServer) {
  DecodeResult r = DecodePacket(bytes, version, role);
  EXPECT_EQ(r.status, DecodeStatus::kError);
  return r.error;
}

inline ReasonCode ErrorOf(const std::string& bytes, ProtocolVersion version,
                          DecodeRole role = DecodeRole::kServer) {
  return DecodeError_(bytes, version, role).reason;
}

}  // namespace meshmq::codec::testing
