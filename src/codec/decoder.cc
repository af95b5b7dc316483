// Incremental framing: buffers wire bytes, cuts whole packets, hands each to DecodeBlock.
#include "codec/decoder.h"

#include <algorithm>
#include <memory>

#include "codec/frame.h"

namespace meshmq::codec {
namespace {

using internal::FixedHeader;
using internal::FrameStatus;

DecodeResult Error(ReasonCode reason, std::string detail) {
  DecodeResult r;
  r.status = DecodeStatus::kError;
  r.error.reason = reason;
  r.error.detail = std::move(detail);
  return r;
}

// Below this many consumed bytes compaction is not worth a memmove.
constexpr std::size_t kCompactThreshold = 4096;
// Largest body size reserved up front from a fixed header that has not been backed by data yet.
constexpr std::size_t kMaxReserve = 1 << 20;

}  // namespace

Decoder::Decoder(DecodeRole role, uint32_t max_packet_size)
    : role_(role), max_packet_size_(max_packet_size) {}

void Decoder::Feed(std::string_view bytes) {
  Adopt();
  if (consumed_ == buffer_.size()) {
    // Common case: everything was consumed, so restart at the front without moving anything.
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ >= kCompactThreshold && consumed_ * 2 >= buffer_.size()) {
    // Moving the unconsumed tail only when it is at most half the buffer keeps the cost
    // amortised O(1) per byte, instead of erasing from the front after every packet.
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
}

void Decoder::FeedBorrowed(std::string_view bytes) {
  Adopt();  // a previous borrow that was not drained
  borrowed_ = bytes;
}

void Decoder::Adopt() {
  if (borrowed_.empty()) return;
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  }
  buffer_.append(borrowed_);
  borrowed_ = {};
}

void Decoder::TopUpFromBorrowed() {
  while (!borrowed_.empty()) {
    std::string_view pending(buffer_.data() + consumed_, buffer_.size() - consumed_);
    FixedHeader header;
    DecodeError error;
    std::size_t want = 0;
    switch (internal::ParseFixedHeader(pending, header, error)) {
      case FrameStatus::kError:
        return;  // DecodeFront reports it
      case FrameStatus::kNeedMore:
        want = 1;  // the remaining length is at most 4 bytes: complete it byte by byte
        break;
      case FrameStatus::kOk:
        if (pending.size() >= header.total_size() || header.total_size() > max_packet_size_) {
          return;  // complete, or DecodeFront rejects it from the header
        }
        want = header.total_size() - pending.size();
        if (header.total_size() <= kMaxReserve) buffer_.reserve(consumed_ + header.total_size());
        break;
    }
    std::size_t take = std::min(want, borrowed_.size());
    buffer_.append(borrowed_.substr(0, take));
    borrowed_.remove_prefix(take);
  }
}

DecodeResult Decoder::Next() {
  if (poisoned_) return Error(last_error_->reason, last_error_->detail);
  std::size_t used = 0;
  if (consumed_ < buffer_.size()) {
    TopUpFromBorrowed();
    DecodeResult result =
        DecodeFront(std::string_view(buffer_.data() + consumed_, buffer_.size() - consumed_), used);
    consumed_ += used;
    if (consumed_ == buffer_.size()) {
      std::string().swap(buffer_);  // between packets the decoder owns nothing
      consumed_ = 0;
    }
    return result;
  }
  if (borrowed_.empty()) return DecodeResult{};
  DecodeResult result = DecodeFront(borrowed_, used);
  borrowed_.remove_prefix(used);
  if (result.status == DecodeStatus::kNeedMore) {
    // Keep only the incomplete packet, in a buffer sized for it (not the read buffer's size).
    std::string().swap(buffer_);
    consumed_ = 0;
    Adopt();
  }
  return result;
}

DecodeResult Decoder::DecodeFront(std::string_view pending, std::size_t& used) {
  used = 0;
  FixedHeader header;
  DecodeError error;
  switch (internal::ParseFixedHeader(pending, header, error)) {
    case FrameStatus::kNeedMore:
      return DecodeResult{};
    case FrameStatus::kError:
      return Poison(std::move(error));
    case FrameStatus::kOk:
      break;
  }
  if (!internal::CheckFixedHeader(header, version_, role_, error)) return Poison(std::move(error));
  auto type = static_cast<PacketType>(header.type);
  if (role_ == DecodeRole::kServer) {
    // [MQTT-3.1.0-1] the first packet must be CONNECT (unless the version was preset, which
    // tests and tools use to decode a mid-session stream); [MQTT-3.1.0-2] only one CONNECT.
    if (type != PacketType::kConnect && !version_known_ && !connect_seen_) {
      return Poison({ReasonCode::kProtocolError, "first packet is not CONNECT"});
    }
    if (type == PacketType::kConnect && connect_seen_) {
      return Poison({ReasonCode::kProtocolError, "second CONNECT"});
    }
  }
  // Checked from the fixed header, before waiting for (and buffering) the body.
  if (header.total_size() > max_packet_size_) {
    return Poison({ReasonCode::kPacketTooLarge, "packet exceeds maximum packet size"});
  }
  if (pending.size() < header.total_size()) {
    // Reserve room for the body once, but do not let a header alone claim a huge allocation.
    if (pending.data() == buffer_.data() + consumed_ && header.total_size() <= kMaxReserve) {
      buffer_.reserve(consumed_ + header.total_size());
    }
    return DecodeResult{};
  }
  // The one copy: the whole packet into an immutable block that payload slices keep alive.
  auto block = std::make_shared<const std::string>(pending.data(), header.total_size());
  used = header.total_size();
  std::optional<ProtocolVersion> connect_version;
  DecodeResult result = internal::DecodeBlock(block, header, version_, role_, connect_version);
  if (connect_version) version_ = *connect_version;
  if (result.status == DecodeStatus::kError) {
    poisoned_ = true;
    last_error_ = std::make_unique<DecodeError>(result.error);
    return result;
  }
  if (type == PacketType::kConnect) {
    connect_seen_ = true;
    version_known_ = true;
  }
  return result;
}

DecodeResult Decoder::Poison(DecodeError error) {
  poisoned_ = true;
  last_error_ = std::make_unique<DecodeError>(error);
  return Error(error.reason, std::move(error.detail));
}

DecodeResult DecodePacket(std::string_view bytes, ProtocolVersion version, DecodeRole role) {
  FixedHeader header;
  DecodeError error;
  switch (internal::ParseFixedHeader(bytes, header, error)) {
    case FrameStatus::kNeedMore:
      return Error(ReasonCode::kMalformedPacket, "truncated header");
    case FrameStatus::kError:
      return Error(error.reason, std::move(error.detail));
    case FrameStatus::kOk:
      break;
  }
  if (header.total_size() != bytes.size()) {
    return Error(ReasonCode::kMalformedPacket, "remaining length does not match the input");
  }
  if (!internal::CheckFixedHeader(header, version, role, error)) {
    return Error(error.reason, std::move(error.detail));
  }
  auto block = std::make_shared<const std::string>(bytes);
  std::optional<ProtocolVersion> connect_version;
  return internal::DecodeBlock(block, header, version, role, connect_version);
}

}  // namespace meshmq::codec
