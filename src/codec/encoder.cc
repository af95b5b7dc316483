// Encoder entry points: the fixed header, then the body written by body_encoders.
#include "codec/encoder.h"

#include "codec/body_encoders.h"

namespace meshmq::codec {
namespace {

using internal::Writer;

void WriteBody(const Packet& packet, ProtocolVersion version, Writer& w) {
  std::visit([&](const auto& p) { internal::WriteBody(p, version, w); }, packet);
}

uint8_t FirstByte(const Packet& packet) {
  return static_cast<uint8_t>((static_cast<uint8_t>(TypeOf(packet)) << 4) |
                              internal::FixedHeaderFlags(packet));
}

}  // namespace

void AppendVarInt(uint32_t value, std::string& out) {
  Writer w(&out);
  w.VarInt(value);
}

std::size_t VarIntSize(uint32_t value) {
  if (value < 128) return 1;
  if (value < 16384) return 2;
  if (value < 2097152) return 3;
  return 4;
}

void Encode(const Packet& packet, ProtocolVersion version, std::string& out) {
  Writer counter;
  WriteBody(packet, version, counter);
  auto remaining = static_cast<uint32_t>(counter.size());
  out.reserve(out.size() + 1 + VarIntSize(remaining) + remaining);
  out.push_back(static_cast<char>(FirstByte(packet)));
  AppendVarInt(remaining, out);
  Writer writer(&out);
  WriteBody(packet, version, writer);
}

void EncodePublishHeader(const Publish& publish, ProtocolVersion version, std::string& out) {
  EncodePublishHeader(internal::HeaderOf(publish), version, out);
}

void EncodePublishHeader(const PublishHeader& header, ProtocolVersion version, std::string& out) {
  Writer counter;
  internal::WritePublishVariableHeader(header, version, counter);
  auto remaining = static_cast<uint32_t>(counter.size() + header.payload_size);
  uint8_t flags = internal::PublishFlags(header.dup, header.qos, header.retain);
  out.push_back(static_cast<char>((static_cast<uint8_t>(PacketType::kPublish) << 4) | flags));
  AppendVarInt(remaining, out);
  Writer writer(&out);
  internal::WritePublishVariableHeader(header, version, writer);
}

Publish ToPublish(const PublishHeader& header, SharedBytes payload) {
  Publish p;
  p.dup = header.dup;
  p.qos = header.qos;
  p.retain = header.retain;
  p.topic = std::string(header.topic);
  p.packet_id = header.packet_id;
  if (header.properties != nullptr) p.properties = *header.properties;
  if (header.subscription_identifiers != nullptr) {
    p.properties.subscription_identifiers = *header.subscription_identifiers;
  }
  if (header.message_expiry_interval) {
    p.properties.message_expiry_interval = header.message_expiry_interval;
  }
  if (header.topic_alias) p.properties.topic_alias = header.topic_alias;
  p.payload = std::move(payload);
  return p;
}

std::size_t EncodedSize(const Packet& packet, ProtocolVersion version) {
  Writer counter;
  WriteBody(packet, version, counter);
  auto remaining = static_cast<uint32_t>(counter.size());
  return 1 + VarIntSize(remaining) + remaining;
}

}  // namespace meshmq::codec
