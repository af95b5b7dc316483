// A map for keys that are cheap to compare (pointers, ids) where nearly every instance holds one
// entry: the ordinary subscribers of one filter on a shard (one session per filter for the usual
// "each device its own topic" load).
//
// The first entry sits inline (no heap block; an absl hash table with one entry costs a 64-byte
// block plus its 32-byte header in the owner); more entries go to a vector searched linearly;
// past kIndexFrom entries an index (key -> position) keeps insert and erase O(1), so a filter
// with thousands of subscribers still subscribes and unsubscribes in constant time. Iteration
// over a contiguous array is also faster than over a hash table on the publish path.
//
// Order of iteration is unspecified (erase moves the last entry into the gap). Same thread rules
// as the owner.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"

namespace meshmq::broker {

template <typename K, typename V>
class SmallMap {
 public:
  // Above this many entries lookups go through the index.
  static constexpr std::size_t kIndexFrom = 8;

  using value_type = std::pair<K, V>;
  using Items = absl::InlinedVector<value_type, 1>;
  using const_iterator = typename Items::const_iterator;

  SmallMap() = default;
  SmallMap(SmallMap&&) noexcept = default;
  SmallMap& operator=(SmallMap&&) noexcept = default;

  bool empty() const { return items_.empty(); }
  std::size_t size() const { return items_.size(); }
  const_iterator begin() const { return items_.begin(); }
  const_iterator end() const { return items_.end(); }

  V* find(const K& key) {
    std::size_t i = IndexOf(key);
    return i == kNone ? nullptr : &items_[i].second;
  }
  bool contains(const K& key) const { return IndexOf(key) != kNone; }

  // Adds (key, value) or replaces the value of `key`; second is true when it was added.
  std::pair<V*, bool> insert_or_assign(const K& key, const V& value) {
    std::size_t i = IndexOf(key);
    if (i != kNone) {
      items_[i].second = value;
      return {&items_[i].second, false};
    }
    items_.emplace_back(key, value);
    if (index_) {
      index_->emplace(key, items_.size() - 1);
    } else if (items_.size() > kIndexFrom) {
      Reindex();
    }
    return {&items_.back().second, true};
  }

  // Removes `key`; returns how many entries were removed (0 or 1).
  std::size_t erase(const K& key) {
    std::size_t i = IndexOf(key);
    if (i == kNone) return 0;
    std::size_t last = items_.size() - 1;
    if (index_) index_->erase(key);
    if (i != last) {
      items_[i] = std::move(items_[last]);
      if (index_) (*index_)[items_[i].first] = i;
    }
    items_.pop_back();
    if (items_.size() <= kIndexFrom) index_.reset();
    if (items_.empty()) items_.shrink_to_fit();  // back to inline: no heap block left
    return 1;
  }

 private:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  std::size_t IndexOf(const K& key) const {
    if (index_) {
      auto it = index_->find(key);
      return it == index_->end() ? kNone : it->second;
    }
    for (std::size_t i = 0; i < items_.size(); ++i) {
      if (items_[i].first == key) return i;
    }
    return kNone;
  }

  void Reindex() {
    index_ = std::make_unique<absl::flat_hash_map<K, std::size_t>>();
    index_->reserve(items_.size());
    for (std::size_t i = 0; i < items_.size(); ++i) index_->emplace(items_[i].first, i);
  }

  Items items_;
  std::unique_ptr<absl::flat_hash_map<K, std::size_t>> index_;
};

}  // namespace meshmq::broker
