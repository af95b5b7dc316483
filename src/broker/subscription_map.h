// A session's subscriptions, keyed by the filter as subscribed ("$share/g/f" included).
//
// Nearly every session holds one subscription or a handful: a hash table with its control bytes,
// slots and a second copy of each filter as key cost ~100 bytes more than the subscriptions
// themselves. Here they sit in a vector (exactly as many as held) and are found by a linear
// scan; past kIndexFrom entries an index from filter (a view of the subscription's own filter
// string) to position is built, so a session with thousands of filters still subscribes in O(1).
//
// Iteration yields (filter, subscription) pairs like the map it replaces, in unspecified order.
// Same thread rules as the Session that owns it.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "codec/packets.h"

namespace meshmq::broker {

struct StoredSubscription {
  codec::SubscribeRequest request;  // filter as subscribed, "$share/g/f" included
  uint32_t subscription_id = 0;     // v5 Subscription Identifier, 0 = none
};

class SubscriptionMap {
 public:
  // Above this many subscriptions lookups go through the index.
  static constexpr std::size_t kIndexFrom = 8;

  using value_type = std::pair<const std::string&, const StoredSubscription&>;

  class const_iterator {
   public:
    explicit const_iterator(std::vector<StoredSubscription>::const_iterator it) : it_(it) {}
    value_type operator*() const { return {it_->request.filter, *it_}; }
    const_iterator& operator++() {
      ++it_;
      return *this;
    }
    bool operator==(const const_iterator&) const = default;

   private:
    std::vector<StoredSubscription>::const_iterator it_;
  };

  SubscriptionMap() = default;
  // The index views strings inside items_: never copied, only moved.
  SubscriptionMap(const SubscriptionMap&) = delete;
  SubscriptionMap& operator=(const SubscriptionMap&) = delete;

  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  const_iterator begin() const { return const_iterator(items_.begin()); }
  const_iterator end() const { return const_iterator(items_.end()); }

  const StoredSubscription* Find(std::string_view filter) const {
    std::size_t i = IndexOf(filter);
    return i == kNone ? nullptr : &items_[i];
  }
  bool contains(std::string_view filter) const { return IndexOf(filter) != kNone; }

  // Adds `sub` or replaces the subscription with the same filter; true when it was added.
  bool InsertOrAssign(const StoredSubscription& sub) {
    std::size_t i = IndexOf(sub.request.filter);
    if (i != kNone) {
      // The index views the held filter string, which the assignment may move: re-key it.
      if (index_) index_->erase(Key(items_[i].request.filter));
      items_[i] = sub;
      if (index_) index_->emplace(Key(items_[i].request.filter), i);
      return false;
    }
    if (items_.size() == items_.capacity()) {
      // Grow by one while small (one subscription: no spare slot), geometrically after.
      items_.reserve(items_.size() < kIndexFrom ? items_.size() + 1 : items_.size() * 2);
      index_.reset();  // the views moved with the strings (SSO)
    }
    items_.push_back(sub);
    if (items_.size() > kIndexFrom) {
      if (!index_) {
        Reindex();
      } else {
        index_->emplace(Key(items_.back().request.filter), items_.size() - 1);
      }
    }
    return true;
  }

  // Removes the subscription with this filter; false when there was none.
  bool Erase(std::string_view filter) {
    std::size_t i = IndexOf(filter);
    if (i == kNone) return false;
    if (index_) index_->erase(Key(filter));
    std::size_t last = items_.size() - 1;
    if (i != last) {
      if (index_) index_->erase(Key(items_[last].request.filter));
      items_[i] = std::move(items_[last]);
      if (index_) index_->emplace(Key(items_[i].request.filter), i);
    }
    items_.pop_back();
    if (items_.size() <= kIndexFrom) index_.reset();
    if (items_.empty()) items_.shrink_to_fit();
    return true;
  }

 private:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  static absl::string_view Key(std::string_view s) { return absl::string_view(s.data(), s.size()); }

  std::size_t IndexOf(std::string_view filter) const {
    if (index_) {
      auto it = index_->find(Key(filter));
      return it == index_->end() ? kNone : it->second;
    }
    for (std::size_t i = 0; i < items_.size(); ++i) {
      if (items_[i].request.filter == filter) return i;
    }
    return kNone;
  }

  void Reindex() {
    index_ = std::make_unique<absl::flat_hash_map<absl::string_view, std::size_t>>();
    index_->reserve(items_.size());
    for (std::size_t i = 0; i < items_.size(); ++i) {
      index_->emplace(Key(items_[i].request.filter), i);
    }
  }

  std::vector<StoredSubscription> items_;
  std::unique_ptr<absl::flat_hash_map<absl::string_view, std::size_t>> index_;
};

}  // namespace meshmq::broker
