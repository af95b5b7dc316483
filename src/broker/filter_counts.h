// A count per string, for the node-wide count of shards holding each filter (Broker::RouteRef).
//
// Why not absl::flat_hash_map<std::string, int>: that costs a 40-byte slot per filter (the
// std::string's 32 bytes inline plus the count, padded) and, for filters longer than 15
// characters, a heap copy besides. Here (StringBlockMap) a slot is one pointer to one heap block
// holding the count, the length and the characters. The table holds one entry per distinct filter
// of the node (one per connection under the usual "each device its own topic" load), so this is
// per connection memory.
//
// Not thread-safe: the owner locks (Broker::routes_mu_).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "broker/string_block_map.h"

namespace meshmq::broker {

class FilterCounts {
 public:
  // Adds `delta` to the count of `filter` and returns the new count; an entry whose count falls
  // to 0 or below is removed (and reported as 0 or below).
  int Add(std::string_view filter, int delta) {
    int count = Count(filter) + delta;
    if (count > 0) {
      counts_.Assign(filter, count);
    } else {
      counts_.Erase(filter);
    }
    return count;
  }

  // The current count, 0 when absent.
  int Count(std::string_view filter) const { return counts_.Find(filter).value_or(0); }

  std::size_t size() const { return counts_.size(); }

  // fn(std::string_view filter), in unspecified order.
  template <class F>
  void ForEach(F&& fn) const {
    counts_.ForEach([&fn](std::string_view filter, int32_t) { fn(filter); });
  }

 private:
  StringBlockMap<int32_t> counts_;
};

}  // namespace meshmq::broker
