// Big-endian field writer for the encoder (private to the codec).
//
// The same body-writing code runs twice per packet: once with a counting Writer (no output) to
// learn the remaining length, once with a real output string. One code path for both means the
// size and the bytes cannot disagree, and EncodedSize() allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace meshmq::codec::internal {

class Writer {
 public:
  // Counts only.
  Writer() = default;
  // Appends to `out`.
  explicit Writer(std::string* out) : out_(out) {}

  std::size_t size() const { return size_; }

  void U8(uint8_t v) {
    if (out_) out_->push_back(static_cast<char>(v));
    size_ += 1;
  }
  void U16(uint16_t v) {
    U8(static_cast<uint8_t>(v >> 8));
    U8(static_cast<uint8_t>(v));
  }
  void U32(uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) U8(static_cast<uint8_t>(v >> shift));
  }
  void VarInt(uint32_t v) {
    do {
      uint8_t b = v & 0x7F;
      v >>= 7;
      U8(v ? (b | 0x80) : b);
    } while (v);
  }
  // Raw bytes, no length prefix.
  void Raw(std::string_view s) {
    if (out_) out_->append(s);
    size_ += s.size();
  }
  // Two-byte length prefix then the bytes (UTF-8 strings and binary data). Callers never pass
  // more than 65535 bytes: longer strings cannot be decoded in the first place.
  void Str(std::string_view s) {
    U16(static_cast<uint16_t>(s.size()));
    Raw(s);
  }

 private:
  std::string* out_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace meshmq::codec::internal
