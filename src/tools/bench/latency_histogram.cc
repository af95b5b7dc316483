#include "tools/bench/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace meshmq::bench {

// v >= 128 has its top bit at position b >= 7; keep the 7 leading bits (64..127) as the
// mantissa and the shift e = b - 6 >= 1 as the exponent.
int LatencyHistogram::IndexOf(uint64_t v) {
  if (v < kLinear) return static_cast<int>(v);
  int b = 63 - std::countl_zero(v);
  int e = b - 6;
  int mantissa = static_cast<int>(v >> e);  // 64..127
  return kLinear + (e - 1) * kSubBuckets + (mantissa - kSubBuckets);
}

uint64_t LatencyHistogram::LowerBound(int index) {
  if (index < kLinear) return static_cast<uint64_t>(index);
  int e = (index - kLinear) / kSubBuckets + 1;
  uint64_t mantissa = static_cast<uint64_t>((index - kLinear) % kSubBuckets + kSubBuckets);
  return mantissa << e;
}

void LatencyHistogram::Record(int64_t ns) {
  uint64_t v = ns < 0 ? 0 : static_cast<uint64_t>(ns);
  buckets_[std::min(IndexOf(v), kBuckets - 1)]++;
  ++count_;
  max_ns_ = std::max(max_ns_, static_cast<int64_t>(v));
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_ns_ = std::max(max_ns_, other.max_ns_);
}

int64_t LatencyHistogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      uint64_t lo = LowerBound(i);
      uint64_t hi = i + 1 < kBuckets ? LowerBound(i + 1) : lo;
      return std::min<int64_t>(static_cast<int64_t>((lo + hi) / 2), max_ns_);
    }
  }
  return max_ns_;
}

}  // namespace meshmq::bench
