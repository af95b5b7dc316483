// Fixed-header parsing and per-type checks shared by Decoder and DecodePacket (private).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "codec/decoder.h"

namespace meshmq::codec::internal {

struct FixedHeader {
  uint8_t type = 0;
  uint8_t flags = 0;
  uint32_t remaining_length = 0;
  std::size_t header_size = 0;  // first byte + length bytes
  std::size_t total_size() const { return header_size + remaining_length; }
};

enum class FrameStatus { kNeedMore, kOk, kError };

// Parses the fixed header at the start of `bytes`. kNeedMore when the length is not complete
// yet; kError (Malformed) when the remaining length takes more than four bytes.
FrameStatus ParseFixedHeader(std::string_view bytes, FixedHeader& header, DecodeError& error);

// Checks that can be made from the fixed header alone, before the body is buffered: reserved
// type, reserved flag bits, which side may send the type, AUTH only in v5.
bool CheckFixedHeader(const FixedHeader& header, ProtocolVersion version, DecodeRole role,
                      DecodeError& error);

// Decodes the body of a whole packet held in `block` (fixed header included). For a CONNECT,
// `connect_version` receives the version read from it, even when the CONNECT is then rejected.
DecodeResult DecodeBlock(const std::shared_ptr<const std::string>& block, const FixedHeader& header,
                         ProtocolVersion version, DecodeRole role,
                         std::optional<ProtocolVersion>& connect_version);

}  // namespace meshmq::codec::internal
