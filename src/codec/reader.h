// Bounds-checked cursor over one packet held in its shared block (private to the codec).
//
// Every read either succeeds or records the first error in the shared ErrorSink and returns
// false, so decoders can chain reads with `if (!r.U16(x)) return false;`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "codec/decoder.h"
#include "codec/shared_bytes.h"

namespace meshmq::codec::internal {

struct ErrorSink {
  bool failed = false;
  DecodeError error;
};

class Reader {
 public:
  // Reads bytes [begin, end) of `block`.
  Reader(const std::shared_ptr<const std::string>& block, std::size_t begin, std::size_t end,
         ErrorSink* sink)
      : block_(&block), pos_(begin), end_(end), sink_(sink) {}

  std::size_t remaining() const { return end_ - pos_; }
  bool AtEnd() const { return pos_ == end_; }
  ErrorSink& sink() const { return *sink_; }

  bool U8(uint8_t& v);
  bool U16(uint16_t& v);
  bool U32(uint32_t& v);
  // Variable byte integer (spec 1.5.5): at most four bytes.
  bool VarInt(uint32_t& v);
  // Two-byte length then that many bytes; no UTF-8 check (binary data, raw topic names).
  bool Binary(std::string& s);
  // As Binary, then checks [MQTT-1.5.4-1..2]; a bad string is a Malformed Packet.
  bool Utf8(std::string& s, std::string_view what);
  // Two-byte length then a slice of the block: the bytes are not copied.
  bool SharedBinary(SharedBytes& out);
  // The rest of the packet as a slice of the block.
  SharedBytes Rest();
  // Splits off the next `n` bytes as their own reader (n must be <= remaining()).
  Reader Sub(std::size_t n);

  // Records the error (unless one is already recorded) and returns false.
  bool Fail(ReasonCode reason, std::string_view detail);
  bool Malformed(std::string_view detail) { return Fail(ReasonCode::kMalformedPacket, detail); }
  bool ProtocolError(std::string_view detail) { return Fail(ReasonCode::kProtocolError, detail); }
  // Trailing bytes after the last field are a Malformed Packet.
  bool ExpectEnd(std::string_view what);

 private:
  const char* data() const { return (*block_)->data(); }
  bool Need(std::size_t n, std::string_view what);

  const std::shared_ptr<const std::string>* block_;
  std::size_t pos_;
  std::size_t end_;
  ErrorSink* sink_;
};

}  // namespace meshmq::codec::internal
