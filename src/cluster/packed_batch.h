// A forward batch as one buffer (docs/cluster.md, "Packed forward batches"): the bytes of
// ForwardBatch.packed. Replaces one protobuf ForwardedMessage per publish (protocol 1), whose
// parse cost several mallocs per message (topic, payload, client id, the payload's owner) and
// whose encoding walked every field twice (size, then bytes).
//
// A payload that is at least a quarter of its batch (a large message) is a SharedBytes slice of
// the batch buffer, not a copy; smaller payloads are copied into a block of their own, because a
// slice keeps the whole batch (up to max_forward_batch messages) alive as long as the message
// lives, and one small message queued for an offline session must not pin hundreds of others'
// bytes that the memory account does not see. Corrupt or truncated input is an error value,
// never a crash or an over-read.
// Pure functions, any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "broker/cluster_port.h"
#include "broker/message.h"

namespace meshmq::cluster {

// First byte of every packed batch; a receiver refuses any other value.
inline constexpr uint8_t kPackedBatchVersion = 1;

// Most bytes a message's fields other than its strings take (seq, flags, four lengths, time,
// origin sequence: seven varints and a byte); PackedBatchWriter::Add needs this much room on top
// of the strings, so a caller that reserves it per message never makes the buffer grow.
inline constexpr size_t kFixedFieldsBound = 7 * 10 + 1;

// One forwarded publish as it travels in a batch.
struct PackedForward {
  uint64_t seq = 0;  // per (sender incarnation, receiver) sequence
  broker::MessagePtr msg;  // null when deferred: DeferredForwards::Build(deferred)
  uint32_t deferred = 0;
  bool to_subscribers = false;
  std::vector<std::string> shared_filters;
  std::optional<broker::SessionTarget> target;  // set: for this session only
};

// Appends messages to `out` (which it clears first), version byte first.
class PackedBatchWriter {
 public:
  explicit PackedBatchWriter(std::string* out);
  void Add(uint64_t seq, const broker::Message& msg, bool to_subscribers,
           const std::vector<std::string>* shared_filters, const broker::SessionTarget* target);

 private:
  std::string* out_;
};

// Decodes a whole batch, every message built.
absl::StatusOr<std::vector<PackedForward>> UnpackForwardBatch(
    std::shared_ptr<const std::string> buffer);

struct DeferredBatch;

// The messages of a batch that were checked but not built (see broker::UnbuiltMessages): the
// shard that delivers one builds it from the batch buffer, which this keeps alive until then.
class DeferredForwards : public broker::UnbuiltMessages {
 public:
  struct Entry {
    uint32_t flags_offset;  // the message's flags byte in the buffer
    uint32_t topic_offset;
    uint32_t topic_size;
  };
  std::string_view topic(uint32_t index) const override;
  broker::MessagePtr Build(uint32_t index) const override;
  size_t size() const { return entries_.size(); }

 private:
  friend absl::StatusOr<DeferredBatch> UnpackForwardBatchDeferred(
      std::shared_ptr<const std::string> buffer);
  std::shared_ptr<const std::string> buffer_;
  std::vector<Entry> entries_;
};

struct DeferredBatch {
  std::vector<PackedForward> forwards;
  std::shared_ptr<const DeferredForwards> unbuilt;
};

// Decodes and checks a whole batch, but builds only the messages with shared-subscription
// filters or a target session (they are rare and routed by the cluster layer); the others are
// left to DeferredForwards::Build.
absl::StatusOr<DeferredBatch> UnpackForwardBatchDeferred(std::shared_ptr<const std::string> buffer);

}  // namespace meshmq::cluster
