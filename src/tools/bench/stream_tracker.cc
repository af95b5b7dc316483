#include "tools/bench/stream_tracker.h"

#include <algorithm>

namespace meshmq::bench {

bool Stream::Add(uint64_t seq) {
  ++received;
  size_t word = seq / 64;
  if (word >= seen.size()) seen.resize(std::max(word + 1, seen.size() * 2), 0);
  uint64_t bit = uint64_t{1} << (seq % 64);
  if (seen[word] & bit) {
    ++duplicates;
    return false;
  }
  seen[word] |= bit;
  if (seq < next) ++out_of_order;
  else next = seq + 1;
  return true;
}

bool StreamTracker::Add(uint32_t publisher, uint64_t seq) {
  if (publisher != last_publisher_) {
    last_ = &streams_[publisher];  // unordered_map never moves its elements
    last_publisher_ = publisher;
  }
  return last_->Add(seq);
}

}  // namespace meshmq::bench
