// Per-subscriber record of which sequence numbers arrived from each publisher, so that loss,
// duplicates and reordering are computed exactly (a bit per sequence number, not a sample).
//
// Owned by one subscriber and touched only by its worker thread while the bench runs; read by
// the main thread after the workers have stopped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace meshmq::bench {

struct Stream {
  std::vector<uint64_t> seen;  // bit i set: sequence number i arrived at least once
  uint64_t received = 0;       // every arrival, duplicates included
  uint64_t duplicates = 0;     // arrivals of a sequence number already seen here
  uint64_t out_of_order = 0;   // first arrivals below the highest sequence seen so far
  uint64_t next = 0;           // highest sequence seen + 1

  // Returns false for a duplicate.
  bool Add(uint64_t seq);
  bool Has(uint64_t seq) const {
    size_t word = seq / 64;
    return word < seen.size() && (seen[word] >> (seq % 64) & 1) != 0;
  }
  uint64_t Unique() const { return received - duplicates; }
};

class StreamTracker {
 public:
  // Returns false for a duplicate.
  bool Add(uint32_t publisher, uint64_t seq);
  const std::unordered_map<uint32_t, Stream>& streams() const { return streams_; }

 private:
  std::unordered_map<uint32_t, Stream> streams_;
  uint32_t last_publisher_ = UINT32_MAX;
  Stream* last_ = nullptr;  // the common case is one publisher per subscriber
};

}  // namespace meshmq::bench
