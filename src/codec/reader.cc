// Bounds-checked reads for the decoder.
#include "codec/reader.h"

#include "codec/topic_rules.h"

namespace meshmq::codec::internal {

bool Reader::Fail(ReasonCode reason, std::string_view detail) {
  if (!sink_->failed) {
    sink_->failed = true;
    sink_->error.reason = reason;
    sink_->error.detail = std::string(detail);
  }
  return false;
}

bool Reader::Need(std::size_t n, std::string_view what) {
  if (remaining() >= n) return true;
  std::string detail = "truncated ";
  detail += what;
  return Malformed(detail);
}

bool Reader::ExpectEnd(std::string_view what) {
  if (AtEnd()) return true;
  std::string detail(what);
  detail += ": trailing bytes";
  return Malformed(detail);
}

bool Reader::U8(uint8_t& v) {
  if (!Need(1, "byte")) return false;
  v = static_cast<uint8_t>(data()[pos_++]);
  return true;
}

bool Reader::U16(uint16_t& v) {
  if (!Need(2, "two-byte integer")) return false;
  auto hi = static_cast<uint8_t>(data()[pos_]);
  auto lo = static_cast<uint8_t>(data()[pos_ + 1]);
  v = static_cast<uint16_t>((hi << 8) | lo);
  pos_ += 2;
  return true;
}

bool Reader::U32(uint32_t& v) {
  if (!Need(4, "four-byte integer")) return false;
  v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(data()[pos_ + i]);
  pos_ += 4;
  return true;
}

bool Reader::VarInt(uint32_t& v) {
  v = 0;
  for (int i = 0; i < 4; ++i) {
    uint8_t b;
    if (!U8(b)) return false;
    v |= static_cast<uint32_t>(b & 0x7F) << (7 * i);
    if ((b & 0x80) == 0) return true;
  }
  return Malformed("variable byte integer longer than 4 bytes");
}

bool Reader::Binary(std::string& s) {
  uint16_t len;
  if (!U16(len)) return false;
  if (!Need(len, "string or binary data")) return false;
  s.assign(data() + pos_, len);
  pos_ += len;
  return true;
}

bool Reader::Utf8(std::string& s, std::string_view what) {
  if (!Binary(s)) return false;
  if (IsValidUtf8(s)) return true;
  std::string detail(what);
  detail += ": invalid UTF-8";
  return Malformed(detail);
}

bool Reader::SharedBinary(SharedBytes& out) {
  uint16_t len;
  if (!U16(len)) return false;
  if (!Need(len, "binary data")) return false;
  out = SharedBytes(*block_, pos_, len);
  pos_ += len;
  return true;
}

SharedBytes Reader::Rest() {
  SharedBytes out(*block_, pos_, remaining());
  pos_ = end_;
  return out;
}

Reader Reader::Sub(std::size_t n) {
  Reader sub(*block_, pos_, pos_ + n, sink_);
  pos_ += n;
  return sub;
}

}  // namespace meshmq::codec::internal
