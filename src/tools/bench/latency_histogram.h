// Log-linear latency histogram (HdrHistogram-like): exact below 128 ns, then 64 linear buckets
// per power of two, so any recorded value is reported within 1.6 %. Fixed memory (~18 KiB)
// however many samples are recorded.
//
// One histogram per worker thread, merged after the threads have stopped; not thread-safe.
#pragma once

#include <array>
#include <cstdint>

namespace meshmq::bench {

class LatencyHistogram {
 public:
  void Record(int64_t ns);
  void Merge(const LatencyHistogram& other);
  uint64_t count() const { return count_; }
  int64_t max_ns() const { return max_ns_; }
  // Value at quantile q in [0, 1] (bucket midpoint); 0 when empty.
  int64_t Percentile(double q) const;

 private:
  static constexpr int kLinear = 128;   // values below this each have their own bucket
  static constexpr int kSubBuckets = 64;
  static constexpr int kBuckets = kLinear + 57 * kSubBuckets;

  static int IndexOf(uint64_t v);
  static uint64_t LowerBound(int index);

  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  int64_t max_ns_ = 0;
};

}  // namespace meshmq::bench
