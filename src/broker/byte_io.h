// Little-endian, length-prefixed byte writing and bounds-checked reading: the encoding of
// session_codec (takeover) and of the store's records (src/storage). A ByteReader that runs past the
// end stops, reports !ok() and returns zeros from then on; it never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace meshmq::broker {

class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(out) {}
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
  void Str(std::string_view s) {
    U64(s.size());
    out_.append(s);
  }

 private:
  std::string& out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool AtEnd() const { return pos_ == in_.size(); }
  // Consumes the 4-byte `tag` if it comes next.
  bool Tag(const char* tag) {
    if (in_.size() - pos_ < 4 || in_.compare(pos_, 4, tag) != 0) return false;
    pos_ += 4;
    return true;
  }
  uint8_t U8() {
    if (pos_ + 1 > in_.size()) return Fail();
    return static_cast<uint8_t>(in_[pos_++]);
  }
  uint64_t U64() {
    if (pos_ + 8 > in_.size()) return Fail();
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
    pos_ += 8;
    return v;
  }
  std::string Str() {
    uint64_t n = U64();
    if (!ok_ || n > in_.size() - pos_) {
      Fail();
      return {};
    }
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }

 private:
  uint8_t Fail() {
    ok_ = false;
    pos_ = in_.size();
    return 0;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace meshmq::broker
