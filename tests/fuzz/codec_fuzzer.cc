// libFuzzer target for the MQTT codec.
//
// Input layout: byte 0 picks the session state, byte 1 seeds the read-chunk sizes, the rest is
// the byte stream a peer sends.
//   byte 0 bits 0-1: protocol version (0 = 3.1, 1 = 3.1.1, 2/3 = 5.0)
//          bit 2:    role (0 = server decoding client packets, 1 = client)
//          bit 3:    version preset (as after CONNECT) instead of learned from CONNECT
//          bit 4:    small maximum packet size (exercises kPacketTooLarge)
//   byte 1: 0 feeds everything at once; otherwise chunk sizes follow a generator seeded by it.
// Oracle: every decoded packet must survive Encode -> DecodePacket unchanged, re-encode to the
// same bytes, agree with EncodedSize and EncodePublishHeader, and hold its payloads as slices of
// one block. Any mismatch aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "codec/decoder.h"
#include "codec/encoder.h"

namespace {

using namespace meshmq::codec;

void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "codec_fuzzer oracle failed: %s\n", what);
  std::abort();
}

void CheckSlice(const SharedBytes& bytes) {
  if (bytes.empty() || !bytes.block()) return;
  const std::string& block = *bytes.block();
  Check(bytes.data() >= block.data() && bytes.data() + bytes.size() <= block.data() + block.size(),
        "payload is not a slice of its block");
}

void CheckRoundTrip(const Packet& packet, ProtocolVersion version, DecodeRole role) {
  if (const auto* p = std::get_if<Publish>(&packet)) CheckSlice(p->payload);
  if (const auto* c = std::get_if<Connect>(&packet)) {
    if (c->will) CheckSlice(c->will->payload);
    Check(c->version == version, "decoder version differs from CONNECT version");
  }
  std::string encoded;
  Encode(packet, version, encoded);
  Check(EncodedSize(packet, version) == encoded.size(), "EncodedSize mismatch");
  if (const auto* p = std::get_if<Publish>(&packet)) {
    std::string header;
    EncodePublishHeader(*p, version, header);
    Check(header + p->payload.str() == encoded, "EncodePublishHeader mismatch");
  }
  DecodeResult again = DecodePacket(encoded, version, role);
  Check(again.status == DecodeStatus::kPacket, "re-encoded packet does not decode");
  Check(again.packet == packet, "round trip changed the packet");
  std::string encoded_again;
  Encode(again.packet, version, encoded_again);
  Check(encoded_again == encoded, "encoding is not canonical");
}

// Small deterministic generator for chunk sizes (no global state: inputs must reproduce).
uint32_t NextChunk(uint32_t& state) {
  state = state * 1103515245u + 12345u;
  return 1 + (state >> 16) % 97;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  static constexpr ProtocolVersion kVersions[] = {ProtocolVersion::kV31, ProtocolVersion::kV311,
                                                  ProtocolVersion::kV5, ProtocolVersion::kV5};
  const uint8_t selector = data[0];
  const ProtocolVersion version = kVersions[selector & 3];
  const DecodeRole role = (selector & 4) ? DecodeRole::kClient : DecodeRole::kServer;
  Decoder decoder(role, (selector & 16) ? 64 : 268435455);
  if ((selector & 8) || role == DecodeRole::kClient) decoder.set_version(version);

  uint32_t chunk_state = data[1];
  std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);
  bool done = false;
  while (!stream.empty() && !done) {
    std::size_t n = data[1] == 0 ? stream.size() : NextChunk(chunk_state);
    n = n < stream.size() ? n : stream.size();
    decoder.Feed(stream.substr(0, n));
    stream.remove_prefix(n);
    while (true) {
      DecodeResult r = decoder.Next();
      if (r.status == DecodeStatus::kNeedMore) break;
      if (r.status == DecodeStatus::kError) {
        Check(decoder.Next().status == DecodeStatus::kError, "decoder not poisoned after error");
        done = true;
        break;
      }
      CheckRoundTrip(r.packet, decoder.version(), role);
    }
  }
  return 0;
}
