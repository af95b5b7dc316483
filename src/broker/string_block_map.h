// A hash map from a string to a small trivially copyable value, for node-wide tables with one
// entry per client or per filter (the client-id registry, Broker::route_refs_ via FilterCounts).
//
// Why not absl::flat_hash_map<std::string, V>: its slot holds the std::string's 32 bytes inline
// plus V, padded (40-48 bytes, and ~1.6 times that with the table's spare capacity), and a key
// longer than 15 characters has a heap copy besides. Here a slot is one pointer to one heap block
// holding the value, the key's length and its characters, packed without padding: a 12-character
// client id with an 8-byte value is a 24-byte block (a 32-byte malloc chunk) and an 8-byte slot.
//
// Values are copied in and out (the block is not aligned for V). Not thread-safe: the owner
// locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <optional>
#include <string_view>
#include <type_traits>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace meshmq::broker {

template <class V>
class StringBlockMap {
  static_assert(std::is_trivially_copyable_v<V>);

 public:
  StringBlockMap() = default;
  StringBlockMap(const StringBlockMap&) = delete;
  StringBlockMap& operator=(const StringBlockMap&) = delete;
  ~StringBlockMap() {
    for (char* b : set_) ::operator delete(b);
  }

  std::optional<V> Find(std::string_view key) const {
    auto it = set_.find(key);
    if (it == set_.end()) return std::nullopt;
    return ValueOf(*it);
  }

  // Inserts `key` with `value`, or replaces the value of the existing entry.
  void Assign(std::string_view key, const V& value) {
    auto it = set_.find(key);
    if (it != set_.end()) {
      std::memcpy(*it, &value, sizeof(V));
      return;
    }
    set_.insert(Make(key, value));
  }

  // False when there was no such key.
  bool Erase(std::string_view key) {
    auto it = set_.find(key);
    if (it == set_.end()) return false;
    char* b = *it;
    set_.erase(it);
    ::operator delete(b);
    return true;
  }

  std::size_t size() const { return set_.size(); }

  // fn(std::string_view key, const V& value), in unspecified order.
  template <class F>
  void ForEach(F&& fn) const {
    for (const char* b : set_) fn(KeyOf(b), ValueOf(b));
  }

 private:
  // Block layout: V, then the key's length (uint32_t), then its characters.
  static constexpr std::size_t kSizeAt = sizeof(V);
  static constexpr std::size_t kKeyAt = sizeof(V) + sizeof(uint32_t);

  static V ValueOf(const char* b) {
    V v;
    std::memcpy(&v, b, sizeof(V));
    return v;
  }
  static std::string_view KeyOf(const char* b) {
    uint32_t n;
    std::memcpy(&n, b + kSizeAt, sizeof(n));
    return {b + kKeyAt, n};
  }
  static char* Make(std::string_view key, const V& value) {
    char* b = static_cast<char*>(::operator new(kKeyAt + key.size()));
    std::memcpy(b, &value, sizeof(V));
    uint32_t n = static_cast<uint32_t>(key.size());
    std::memcpy(b + kSizeAt, &n, sizeof(n));
    if (!key.empty()) std::memcpy(b + kKeyAt, key.data(), key.size());
    return b;
  }

  static std::string_view View(std::string_view s) { return s; }
  static std::string_view View(const char* b) { return KeyOf(b); }
  struct Hash {
    using is_transparent = void;
    template <class K>
    std::size_t operator()(const K& k) const {
      std::string_view s = View(k);
      return absl::Hash<absl::string_view>{}(absl::string_view(s.data(), s.size()));
    }
  };
  struct Eq {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return View(a) == View(b);
    }
  };

  absl::flat_hash_set<char*, Hash, Eq> set_;
};

}  // namespace meshmq::broker
