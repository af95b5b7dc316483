// A count per string, for the node-wide count of shards holding each filter (Broker::RouteRef).
//
// Why not absl::flat_hash_map<std::string, int>: that costs a 40-byte slot per filter (the
// std::string's 32 bytes inline plus the count, padded) and, for filters longer than 15
// characters, a heap copy besides. Here a slot is one pointer to one heap block holding the count,
// the length and the characters, so a filter costs 8 bytes of slot and one block of about the size
// the std::string's own heap copy had. The table holds one entry per distinct filter of the node
// (one per connection under the usual "each device its own topic" load), so this is per
// connection memory.
//
// Not thread-safe: the owner locks (Broker::routes_mu_).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace meshmq::broker {

class FilterCounts {
 public:
  FilterCounts() = default;
  FilterCounts(const FilterCounts&) = delete;
  FilterCounts& operator=(const FilterCounts&) = delete;
  ~FilterCounts() {
    for (Block* b : set_) Free(b);
  }

  // Adds `delta` to the count of `filter` and returns the new count; an entry whose count falls
  // to 0 or below is removed (and reported as 0 or below).
  int Add(std::string_view filter, int delta) {
    auto it = set_.find(filter);
    if (it == set_.end()) {
      if (delta <= 0) return delta;
      set_.insert(Make(filter, delta));
      return delta;
    }
    Block* b = *it;
    b->count += delta;
    int count = b->count;
    if (count <= 0) {
      set_.erase(it);
      Free(b);
    }
    return count;
  }

  // The current count, 0 when absent.
  int Count(std::string_view filter) const {
    auto it = set_.find(filter);
    return it == set_.end() ? 0 : (*it)->count;
  }

  std::size_t size() const { return set_.size(); }

  // fn(std::string_view filter), in unspecified order.
  template <class F>
  void ForEach(F&& fn) const {
    for (const Block* b : set_) fn(View(b));
  }

 private:
  // Followed in the same allocation by `size` characters.
  struct Block {
    int32_t count;
    uint32_t size;
  };
  static std::string_view View(const Block* b) {
    return {reinterpret_cast<const char*>(b + 1), b->size};
  }
  static Block* Make(std::string_view s, int count) {
    void* p = ::operator new(sizeof(Block) + s.size());
    Block* b = new (p) Block{count, static_cast<uint32_t>(s.size())};
    if (!s.empty()) std::memcpy(b + 1, s.data(), s.size());
    return b;
  }
  static void Free(Block* b) { ::operator delete(b); }

  static absl::string_view Key(std::string_view s) { return {s.data(), s.size()}; }
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return absl::Hash<absl::string_view>{}(Key(s)); }
    size_t operator()(const Block* b) const { return (*this)(View(b)); }
  };
  struct Eq {
    using is_transparent = void;
    static std::string_view V(std::string_view s) { return s; }
    static std::string_view V(const Block* b) { return View(b); }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return V(a) == V(b);
    }
  };

  absl::flat_hash_set<Block*, Hash, Eq> set_;
};

}  // namespace meshmq::broker
