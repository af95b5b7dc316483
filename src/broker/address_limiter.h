// Open connections per client address (IP, port excluded), for --max-connections-per-address.
//
// Thread-safe: Acquire runs in the accept loop (shard 0), Release when a connection ends on its
// own shard. One mutex held for a hash lookup, only at connect and disconnect, never on the
// publish path. Memory is bounded by the number of open connections (empty entries are erased).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace meshmq::broker {

class AddressLimiter {
 public:
  // `limit` 0 = unlimited (Acquire always succeeds and nothing is tracked).
  explicit AddressLimiter(uint32_t limit) : limit_(limit) {}

  bool enabled() const { return limit_ > 0; }
  // Takes a slot for `address`; false (and nothing taken) when it already has `limit` open.
  bool Acquire(std::string_view address);
  void Release(std::string_view address);
  uint32_t Count(std::string_view address) const;

 private:
  const uint32_t limit_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, uint32_t> open_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meshmq::broker
