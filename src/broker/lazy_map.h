// A hash map or set that is one pointer until its first insert. For maps that almost every
// owner leaves empty (shared-subscription groups per filter, topic aliases and HTTP ACL verdicts
// per client, QoS 2 ids per session): an empty absl table is 40 bytes.
//
// The subset of the table interface the broker uses; the storage is freed when cleared or when
// the last element is erased. Same thread rules as the table.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"

namespace meshmq::broker {

template <typename Table>
class LazyTable {
 public:
  using iterator = typename Table::iterator;
  using const_iterator = typename Table::const_iterator;

  bool empty() const { return !t_ || t_->empty(); }
  std::size_t size() const { return t_ ? t_->size() : 0; }
  iterator begin() { return t_ ? t_->begin() : iterator(); }
  iterator end() { return t_ ? t_->end() : iterator(); }
  const_iterator begin() const { return t_ ? t_->cbegin() : const_iterator(); }
  const_iterator end() const { return t_ ? t_->cend() : const_iterator(); }

  template <typename Key>
  iterator find(const Key& key) {
    return t_ ? t_->find(key) : iterator();
  }
  template <typename Key>
  const_iterator find(const Key& key) const {
    return t_ ? t_->find(key) : const_iterator();
  }
  template <typename Key>
  bool contains(const Key& key) const {
    return t_ && t_->contains(key);
  }
  template <typename Key>
  auto& operator[](const Key& key) {
    return Get()[key];
  }
  template <typename... Args>
  auto emplace(Args&&... args) {
    return Get().emplace(std::forward<Args>(args)...);
  }
  template <typename... Args>
  auto insert(Args&&... args) {
    return Get().insert(std::forward<Args>(args)...);
  }
  void erase(iterator it) {
    t_->erase(it);
    if (t_->empty()) t_.reset();
  }
  template <typename Key>
  std::size_t erase(const Key& key) {
    if (!t_) return 0;
    std::size_t n = t_->erase(key);
    if (t_->empty()) t_.reset();
    return n;
  }
  void clear() { t_.reset(); }

 private:
  Table& Get() {
    if (!t_) t_ = std::make_unique<Table>();
    return *t_;
  }

  std::unique_ptr<Table> t_;
};

template <typename K, typename V>
using LazyMap = LazyTable<absl::flat_hash_map<K, V>>;
template <typename K>
using LazySet = LazyTable<absl::flat_hash_set<K>>;

}  // namespace meshmq::broker
