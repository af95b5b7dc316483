// A forward batch as one buffer (docs/cluster.md, "Packed forward batches"): the bytes of
// ForwardBatch.packed. Replaces one protobuf ForwardedMessage per publish (protocol 1), whose
// parse cost several mallocs per message (topic, payload, client id, the payload's owner) and
// whose encoding walked every field twice (size, then bytes).
//
// Decoding makes no allocation per payload: every payload is a SharedBytes slice of the batch
// buffer, which stays alive as long as any message decoded from it (the same trade-off as the
// transport's packet blocks: one queued message pins its whole batch, at most max_forward_batch
// messages). Corrupt or truncated input is an error value, never a crash or an over-read.
// Pure functions, any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "broker/cluster_port.h"
#include "broker/message.h"

namespace meshmq::cluster {

// First byte of every packed batch; a receiver refuses any other value.
inline constexpr uint8_t kPackedBatchVersion = 1;

// One forwarded publish as it travels in a batch.
struct PackedForward {
  uint64_t seq = 0;  // per (sender incarnation, receiver) sequence
  broker::MessagePtr msg;
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

// Decodes a whole batch; payloads are slices of *buffer.
absl::StatusOr<std::vector<PackedForward>> UnpackForwardBatch(
    std::shared_ptr<const std::string> buffer);

}  // namespace meshmq::cluster
