#include "cluster/packed_batch.h"

#include <cstring>
#include <string_view>
#include <utility>

#include "absl/status/status.h"

namespace meshmq::cluster {
namespace {

// Per-message flags byte.
constexpr uint8_t kQosMask = 0x03;
constexpr uint8_t kRetain = 0x04;
constexpr uint8_t kToSubscribers = 0x08;
constexpr uint8_t kHasExtras = 0x10;  // a properties byte follows the fixed fields
constexpr uint8_t kHasShared = 0x20;
constexpr uint8_t kHasTarget = 0x40;
constexpr uint8_t kFlagsKnown = 0x7f;

// Extras byte: the v5 pass-through properties and the expiry, each present only when set.
constexpr uint8_t kPayloadFormat = 0x01;
constexpr uint8_t kContentType = 0x02;
constexpr uint8_t kResponseTopic = 0x04;
constexpr uint8_t kCorrelation = 0x08;
constexpr uint8_t kExpiry = 0x10;
constexpr uint8_t kUserProps = 0x20;
constexpr uint8_t kExtrasKnown = 0x3f;

void PutVarint(std::string* out, uint64_t v) {
  if (v < 0x80) {  // lengths, flags of small messages: most varints are one byte
    out->push_back(static_cast<char>(v));
    return;
  }
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

constexpr size_t kMaxVarint = 10;

// Writes `v` at `p`, which has room for kMaxVarint bytes; returns the end.
char* WriteVarint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

char* WriteBytes(char* p, std::string_view s) {
  p = WriteVarint(p, s.size());
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

void PutBytes(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s);
}

bool HasExtras(const broker::Message& msg) {
  const codec::Properties& p = msg.props();
  return p.payload_format_indicator || p.content_type || p.response_topic || p.correlation_data ||
         !p.user_properties.empty() || msg.expiry_at_ms;
}

void PutExtras(std::string* out, const broker::Message& msg) {
  const codec::Properties& p = msg.props();
  uint8_t bits = (p.payload_format_indicator ? kPayloadFormat : 0) |
                 (p.content_type ? kContentType : 0) | (p.response_topic ? kResponseTopic : 0) |
                 (p.correlation_data ? kCorrelation : 0) | (msg.expiry_at_ms ? kExpiry : 0) |
                 (p.user_properties.empty() ? 0 : kUserProps);
  out->push_back(static_cast<char>(bits));
  if (p.payload_format_indicator) out->push_back(static_cast<char>(*p.payload_format_indicator));
  if (p.content_type) PutBytes(out, *p.content_type);
  if (p.response_topic) PutBytes(out, *p.response_topic);
  if (p.correlation_data) PutBytes(out, *p.correlation_data);
  if (msg.expiry_at_ms) PutVarint(out, ZigZag(*msg.expiry_at_ms));
  if (!p.user_properties.empty()) {
    PutVarint(out, p.user_properties.size());
    for (const auto& [key, value] : p.user_properties) {
      PutBytes(out, key);
      PutBytes(out, value);
    }
  }
}

// Bounds-checked reading of one batch; the first failure sticks and every later read fails.
class Cursor {
 public:
  explicit Cursor(const std::shared_ptr<const std::string>& buf, size_t pos = 0)
      : buf_(buf), pos_(pos), end_(buf->size()) {}

  bool done() const { return pos_ == end_; }
  bool ok() const { return error_ == nullptr; }
  const char* error() const { return error_; }
  size_t pos() const { return pos_; }

  bool Fail(const char* what) {
    if (error_ == nullptr) error_ = what;
    return false;
  }
  bool Byte(uint8_t* v) {
    if (!ok() || pos_ >= end_) return Fail("truncated");
    *v = static_cast<uint8_t>((*buf_)[pos_++]);
    return true;
  }
  bool Varint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t b;
      if (!Byte(&b)) return false;
      if (shift == 63 && b > 1) return Fail("varint overflow");
      result |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return Fail("varint too long");
  }
  // A length-prefixed field: returns its offset and size inside the buffer.
  bool Span(size_t* offset, size_t* size) {
    uint64_t n;
    if (!Varint(&n)) return false;
    if (n > end_ - pos_) return Fail("length beyond the batch");
    *offset = pos_;
    *size = static_cast<size_t>(n);
    pos_ += *size;
    return true;
  }
  bool String(std::string* out) {
    size_t offset, size;
    if (!Span(&offset, &size)) return false;
    out->assign(*buf_, offset, size);
    return true;
  }
  bool Optional(std::optional<std::string>* out) {
    out->emplace();
    return String(&**out);
  }
  // A count of items that each take at least one byte, so a corrupt count cannot make the
  // reader reserve more than the batch could hold.
  bool Count(size_t* n) {
    uint64_t v;
    if (!Varint(&v)) return false;
    if (v > end_ - pos_) return Fail("count beyond the batch");
    *n = static_cast<size_t>(v);
    return true;
  }

 private:
  const std::shared_ptr<const std::string>& buf_;
  size_t pos_;
  size_t end_;
  const char* error_ = nullptr;
};

bool ReadExtras(Cursor& c, broker::Message* msg) {
  uint8_t bits;
  if (!c.Byte(&bits)) return false;
  if (bits & ~kExtrasKnown) return c.Fail("unknown property bits");
  codec::Properties p;
  if (bits & kPayloadFormat) {
    uint8_t v;
    if (!c.Byte(&v)) return false;
    p.payload_format_indicator = v;
  }
  if ((bits & kContentType) && !c.Optional(&p.content_type)) return false;
  if ((bits & kResponseTopic) && !c.Optional(&p.response_topic)) return false;
  if ((bits & kCorrelation) && !c.Optional(&p.correlation_data)) return false;
  if (bits & kExpiry) {
    uint64_t v;
    if (!c.Varint(&v)) return false;
    msg->expiry_at_ms = UnZigZag(v);
  }
  if (bits & kUserProps) {
    size_t n;
    if (!c.Count(&n)) return false;
    p.user_properties.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      std::string key, value;
      if (!c.String(&key) || !c.String(&value)) return false;
      p.user_properties.emplace_back(std::move(key), std::move(value));
    }
  }
  msg->set_properties(std::move(p));
  return true;
}

bool ReadStrings(Cursor& c, std::vector<std::string>* out) {
  size_t n;
  if (!c.Count(&n)) return false;
  out->resize(n);
  for (std::string& s : *out) {
    if (!c.String(&s)) return false;
  }
  return true;
}

bool ReadTarget(Cursor& c, broker::SessionTarget* t) {
  uint8_t qos, retain;
  if (!c.String(&t->client_id) || !c.Byte(&qos) || !c.Byte(&retain)) return false;
  if (qos > 2 || retain > 1) return c.Fail("bad target qos or retain");
  t->qos = qos;
  t->retain = retain != 0;
  size_t n;
  if (!c.Count(&n)) return false;
  t->subscription_ids.resize(n);
  for (uint32_t& id : t->subscription_ids) {
    uint64_t v;
    if (!c.Varint(&v)) return false;
    if (v > UINT32_MAX) return c.Fail("subscription id beyond 32 bits");
    id = static_cast<uint32_t>(v);
  }
  return true;
}

// A payload at least 1/kSliceFraction of its batch is a slice of the batch; smaller ones are copied.
constexpr size_t kSliceFraction = 4;

// Reads the message fields after the flags byte into a new message.
bool ReadMessage(Cursor& c, const std::shared_ptr<const std::string>& buf, uint8_t flags,
                 broker::MessagePtr* out) {
  auto msg = std::make_shared<broker::Message>();
  msg->qos = flags & kQosMask;
  msg->retain = (flags & kRetain) != 0;
  size_t offset, size;
  uint64_t timestamp;
  if (!c.String(&msg->topic) || !c.Span(&offset, &size) || !c.String(&msg->origin_client_id) ||
      !c.String(&msg->origin_node) || !c.Varint(&timestamp) || !c.Varint(&msg->origin_seq)) {
    return false;
  }
  // A slice would keep the whole batch (up to max_forward_batch messages) alive for as long as
  // this one message lives, e.g. queued for an offline session, while the memory account counts
  // only its payload: a queue of small survivors could pin hundreds of times its size. So only
  // a payload that is a large part of the batch is sliced (pinning at most 4x its size); the
  // others get a block of their own (one allocation, as a protobuf parse made too).
  if (size * kSliceFraction >= buf->size()) {
    msg->payload = codec::SharedBytes(buf, offset, size);
  } else {
    msg->payload = codec::SharedBytes(std::string(buf->data() + offset, size));
  }
  msg->timestamp_ms = UnZigZag(timestamp);
  if ((flags & kHasExtras) && !ReadExtras(c, msg.get())) return false;
  *out = std::move(msg);
  return true;
}

// The same fields checked but not copied: the topic's place, and the cursor past the extras.
bool SkipMessage(Cursor& c, uint8_t flags, size_t* topic_offset, size_t* topic_size) {
  size_t offset, size;
  uint64_t v;
  if (!c.Span(topic_offset, topic_size) || !c.Span(&offset, &size) || !c.Span(&offset, &size) ||
      !c.Span(&offset, &size) || !c.Varint(&v) || !c.Varint(&v)) {
    return false;
  }
  if (flags & kHasExtras) {
    broker::Message scratch;  // extras are rare (v5 properties); read them to check and skip
    if (!ReadExtras(c, &scratch)) return false;
  }
  return true;
}

// `deferred` set: a message without shared filters or a target is only checked, and its place
// recorded there for DeferredForwards::Build; fwd->msg stays null.
bool ReadOne(Cursor& c, const std::shared_ptr<const std::string>& buf, PackedForward* fwd,
             std::vector<DeferredForwards::Entry>* deferred) {
  uint8_t flags;
  if (!c.Varint(&fwd->seq)) return false;
  const size_t flags_at = c.pos();
  if (!c.Byte(&flags)) return false;
  if (flags & ~kFlagsKnown) return c.Fail("unknown flag bits");
  if ((flags & kQosMask) == 3) return c.Fail("qos 3");
  fwd->to_subscribers = (flags & kToSubscribers) != 0;
  if (deferred != nullptr && (flags & (kHasShared | kHasTarget)) == 0) {
    size_t topic_offset, topic_size;
    if (!SkipMessage(c, flags, &topic_offset, &topic_size)) return false;
    fwd->deferred = static_cast<uint32_t>(deferred->size());
    deferred->push_back({static_cast<uint32_t>(flags_at), static_cast<uint32_t>(topic_offset),
                         static_cast<uint32_t>(topic_size)});
    return true;
  }
  if (!ReadMessage(c, buf, flags, &fwd->msg)) return false;
  if ((flags & kHasShared) && !ReadStrings(c, &fwd->shared_filters)) return false;
  if (flags & kHasTarget) {
    if (!ReadTarget(c, &fwd->target.emplace())) return false;
  }
  return true;
}

absl::StatusOr<std::vector<PackedForward>> Unpack(const std::shared_ptr<const std::string>& buffer,
                                                  std::vector<DeferredForwards::Entry>* deferred) {
  if (buffer == nullptr || buffer->empty()) {
    return absl::InvalidArgumentError("packed batch: empty");
  }
  if (buffer->size() > UINT32_MAX) return absl::InvalidArgumentError("packed batch: too large");
  Cursor c(buffer);
  uint8_t version;
  c.Byte(&version);
  if (version != kPackedBatchVersion) {
    return absl::InvalidArgumentError("packed batch: unknown version " + std::to_string(version));
  }
  std::vector<PackedForward> out;
  // A small publish takes 40-80 bytes; a frame of large ones regrows a few times at most.
  out.reserve(buffer->size() / 64 + 1);
  while (!c.done()) {
    PackedForward fwd;
    if (!ReadOne(c, buffer, &fwd, deferred)) {
      return absl::InvalidArgumentError(std::string("packed batch: ") + c.error() +
                                        " at byte " + std::to_string(c.pos()));
    }
    out.push_back(std::move(fwd));
  }
  return out;
}

}  // namespace

PackedBatchWriter::PackedBatchWriter(std::string* out) : out_(out) {
  out_->clear();
  out_->push_back(static_cast<char>(kPackedBatchVersion));
}

void PackedBatchWriter::Add(uint64_t seq, const broker::Message& msg, bool to_subscribers,
                            const std::vector<std::string>* shared_filters,
                            const broker::SessionTarget* target) {
  const bool extras = HasExtras(msg);
  const bool shared = shared_filters != nullptr && !shared_filters->empty();
  // The fields every message has go through one raw cursor into space made at once: byte-wise
  // appends (a capacity check per byte) were a quarter of the forward writer's time.
  const std::string_view payload = msg.payload.view();
  const size_t bound = kFixedFieldsBound + msg.topic.size() + payload.size() +
                       msg.origin_client_id.size() + msg.origin_node.size();
  const size_t start = out_->size();
  out_->resize(start + bound);
  char* p = out_->data() + start;
  p = WriteVarint(p, seq);
  *p++ = static_cast<char>((msg.qos & kQosMask) | (msg.retain ? kRetain : 0) |
                           (to_subscribers ? kToSubscribers : 0) | (extras ? kHasExtras : 0) |
                           (shared ? kHasShared : 0) | (target != nullptr ? kHasTarget : 0));
  p = WriteBytes(p, msg.topic);
  p = WriteBytes(p, payload);
  p = WriteBytes(p, msg.origin_client_id);
  p = WriteBytes(p, msg.origin_node);
  p = WriteVarint(p, ZigZag(msg.timestamp_ms));
  p = WriteVarint(p, msg.origin_seq);
  out_->resize(static_cast<size_t>(p - out_->data()));
  if (extras) PutExtras(out_, msg);
  if (shared) {
    PutVarint(out_, shared_filters->size());
    for (const std::string& f : *shared_filters) PutBytes(out_, f);
  }
  if (target != nullptr) {
    PutBytes(out_, target->client_id);
    out_->push_back(static_cast<char>(target->qos));
    out_->push_back(static_cast<char>(target->retain ? 1 : 0));
    PutVarint(out_, target->subscription_ids.size());
    for (uint32_t id : target->subscription_ids) PutVarint(out_, id);
  }
}

absl::StatusOr<std::vector<PackedForward>> UnpackForwardBatch(
    std::shared_ptr<const std::string> buffer) {
  return Unpack(buffer, nullptr);
}

absl::StatusOr<DeferredBatch> UnpackForwardBatchDeferred(std::shared_ptr<const std::string> buffer) {
  auto unbuilt = std::make_shared<DeferredForwards>();
  absl::StatusOr<std::vector<PackedForward>> forwards = Unpack(buffer, &unbuilt->entries_);
  if (!forwards.ok()) return forwards.status();
  unbuilt->buffer_ = std::move(buffer);
  return DeferredBatch{std::move(*forwards), std::move(unbuilt)};
}

std::string_view DeferredForwards::topic(uint32_t index) const {
  const Entry& e = entries_[index];
  return std::string_view(buffer_->data() + e.topic_offset, e.topic_size);
}

broker::MessagePtr DeferredForwards::Build(uint32_t index) const {
  // Checked when the batch was unpacked, so this read cannot fail.
  Cursor c(buffer_, entries_[index].flags_offset);
  uint8_t flags = 0;
  broker::MessagePtr msg;
  if (!c.Byte(&flags) || !ReadMessage(c, buffer_, flags, &msg)) return nullptr;
  return msg;
}

}  // namespace meshmq::cluster
