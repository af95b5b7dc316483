// A trie of MQTT topic filters, each holding a value of type V.
//
// One instance per shard holds that shard's local subscriptions; others hold routes (filter ->
// shards or nodes that want it). Touched by exactly one thread (its owning shard or the cluster
// loop), so it has no lock. PUBLISH matches a topic against it on the hot path: Match walks only
// the branches that can match (literal level, '+', '#'), so its cost grows with the topic's
// levels and the number of matching filters, never with the number of stored filters.
//
// Filters are stored as given; the caller validates them first (codec::IsValidTopicFilter) and
// strips "$share/{group}/". A malformed filter such as "a/#/b" is stored but can never match.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"

namespace meshmq::broker {

template <class V>
class FilterTrie {
 public:
  FilterTrie() = default;
  FilterTrie(const FilterTrie&) = delete;
  FilterTrie& operator=(const FilterTrie&) = delete;
  FilterTrie(FilterTrie&&) noexcept = default;
  FilterTrie& operator=(FilterTrie&&) noexcept = default;

  // Returns the value stored for `filter`, default-constructing it first if absent. The reference
  // stays valid until that filter is erased (nodes never move).
  V& GetOrCreate(std::string_view filter) {
    Node* node = &root_;
    ForEachLevel(filter, [&node](std::string_view level) { node = node->GetOrCreateChild(level); });
    if (!node->value) {
      node->value.emplace();
      node->filter.assign(filter);
      ++size_;
    }
    return *node->value;
  }

  V* Find(std::string_view filter) {
    Node* node = FindNode(filter);
    return node != nullptr && node->value ? &*node->value : nullptr;
  }
  const V* Find(std::string_view filter) const {
    return const_cast<FilterTrie*>(this)->Find(filter);
  }

  // Removes the value for `filter` and prunes every node left with no value and no children.
  // Returns false when the filter held no value.
  bool Erase(std::string_view filter);

  // Number of filters holding a value.
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void Clear() {
    root_ = Node{};
    size_ = 0;
  }

  // Calls fn once for every stored filter matching `topic` [MQTT-4.7.1-2], [MQTT-4.7.1-3]:
  // '+' matches one level, '#' the rest including the parent level ("a/#" matches "a"), and a
  // wildcard in the first level does not match a topic starting with '$' [MQTT-4.7.2-1]. Empty
  // levels are levels ("a//b", "/a"). fn is either fn(const V&) or
  // fn(std::string_view filter, const V&); order of calls is unspecified. fn must not modify the
  // trie's structure (GetOrCreate/Erase) during the walk.
  template <class F>
  void Match(std::string_view topic, F&& fn) const {
    const_cast<FilterTrie*>(this)->MatchImpl(topic, [&fn](std::string_view f, V& v) {
      Invoke(fn, f, static_cast<const V&>(v));
    });
  }
  // Same, giving mutable access: fn(V&) or fn(std::string_view filter, V&).
  template <class F>
  void Match(std::string_view topic, F&& fn) {
    MatchImpl(topic, [&fn](std::string_view f, V& v) { Invoke(fn, f, v); });
  }

  // Calls fn(std::string_view filter, V&) for every stored filter, in unspecified order (a
  // digest over it must be order-independent or sort first).
  template <class F>
  void ForEach(F&& fn) {
    ForEachNode(&root_, fn);
  }
  template <class F>
  void ForEach(F&& fn) const {
    ForEachNode(&root_, fn);
  }

 private:
  struct Node;
  // Default hash/eq for std::string keys are transparent: find(absl::string_view) does not
  // allocate. (Debian's Abseil has its own string_view type, hence Key() below.)
  using ChildMap = absl::flat_hash_map<std::string, std::unique_ptr<Node>>;
  // A node's children, on the heap: most nodes are leaves (one per subscribed filter), and an
  // empty map plus two pointers would cost them 56 bytes each.
  struct Kids {
    ChildMap children;
    std::unique_ptr<Node> plus;  // the '+' child
    std::unique_ptr<Node> hash;  // the '#' child
    bool empty() const { return !plus && !hash && children.empty(); }
  };
  struct Node {
    std::unique_ptr<Kids> kids;
    std::optional<V> value;
    std::string filter;  // the full filter, set while `value` holds something

    Node* plus() const { return kids ? kids->plus.get() : nullptr; }
    Node* hash() const { return kids ? kids->hash.get() : nullptr; }
    Node* Literal(std::string_view level) const {
      if (!kids) return nullptr;
      auto it = kids->children.find(Key(level));
      return it == kids->children.end() ? nullptr : it->second.get();
    }
    Node* GetOrCreateChild(std::string_view level) {
      if (!kids) kids = std::make_unique<Kids>();
      if (level == "+") return GetOrMake(kids->plus);
      if (level == "#") return GetOrMake(kids->hash);
      auto it = kids->children.find(Key(level));
      if (it == kids->children.end()) {
        it = kids->children.emplace(std::string(level), std::make_unique<Node>()).first;
      }
      return it->second.get();
    }
    Node* Child(std::string_view level) const {
      if (level == "+") return plus();
      if (level == "#") return hash();
      return Literal(level);
    }
    // Unlinks the child at `level` (which must exist); frees Kids once no child is left.
    void RemoveChild(std::string_view level) {
      if (level == "+") {
        kids->plus.reset();
      } else if (level == "#") {
        kids->hash.reset();
      } else {
        kids->children.erase(kids->children.find(Key(level)));
      }
      if (kids->empty()) kids.reset();
    }
    bool Removable() const { return !value && !kids; }
    static Node* GetOrMake(std::unique_ptr<Node>& p) {
      if (!p) p = std::make_unique<Node>();
      return p.get();
    }
  };

  // Splits on '/' without allocating; "" is one empty level, "a/" is "a" and "".
  template <class F>
  static void ForEachLevel(std::string_view s, F&& fn) {
    std::size_t start = 0;
    while (true) {
      std::size_t slash = s.find('/', start);
      if (slash == std::string_view::npos) {
        fn(s.substr(start));
        return;
      }
      fn(s.substr(start, slash - start));
      start = slash + 1;
    }
  }

  static absl::string_view Key(std::string_view s) { return {s.data(), s.size()}; }

  template <class F, class VV>
  static void Invoke(F& fn, std::string_view filter, VV& v) {
    if constexpr (std::is_invocable_v<F&, std::string_view, VV&>) {
      fn(filter, v);
    } else {
      fn(v);
    }
  }

  Node* FindNode(std::string_view filter) {
    Node* node = &root_;
    ForEachLevel(filter, [&node](std::string_view level) {
      if (node != nullptr) node = node->Child(level);
    });
    return node;
  }

  template <class F>
  void MatchImpl(std::string_view topic, F&& emit);

  template <class NodeT, class F>
  static void ForEachNode(NodeT* root, F& fn) {
    std::vector<NodeT*> stack{root};
    while (!stack.empty()) {
      NodeT* n = stack.back();
      stack.pop_back();
      if (n->value) fn(std::string_view(n->filter), *n->value);
      if (!n->kids) continue;
      for (auto& [level, child] : n->kids->children) stack.push_back(child.get());
      if (n->kids->plus) stack.push_back(n->kids->plus.get());
      if (n->kids->hash) stack.push_back(n->kids->hash.get());
    }
  }

  Node root_;
  std::size_t size_ = 0;
};

template <class V>
bool FilterTrie<V>::Erase(std::string_view filter) {
  // Path of (parent, level taken from it) so empty nodes can be unlinked bottom-up.
  absl::InlinedVector<std::pair<Node*, std::string_view>, 16> path;
  Node* node = &root_;
  ForEachLevel(filter, [&](std::string_view level) {
    if (node == nullptr) return;
    path.emplace_back(node, level);
    node = node->Child(level);
  });
  if (node == nullptr || !node->value) return false;
  node->value.reset();
  node->filter.clear();
  node->filter.shrink_to_fit();
  --size_;
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    auto [parent, level] = *it;
    if (!parent->Child(level)->Removable()) break;
    parent->RemoveChild(level);
  }
  return true;
}

template <class V>
template <class F>
void FilterTrie<V>::MatchImpl(std::string_view topic, F&& emit) {
  // Pending branches: a node and the offset in `topic` of the level it must match next, or npos
  // when all levels are consumed. Explicit stack: no recursion depth bound by topic length.
  constexpr std::size_t kEnd = std::string_view::npos;
  absl::InlinedVector<std::pair<Node*, std::size_t>, 16> stack;
  stack.emplace_back(&root_, 0);
  while (!stack.empty()) {
    auto [node, pos] = stack.back();
    stack.pop_back();
    if (pos == kEnd) {
      if (node->value) emit(node->filter, *node->value);
      // "a/#" also matches "a" [MQTT-4.7.1-2].
      if (Node* h = node->hash(); h && h->value) emit(h->filter, *h->value);
      continue;
    }
    if (!node->kids) continue;  // a leaf: nothing below matches the remaining levels
    std::size_t slash = topic.find('/', pos);
    std::string_view level =
        topic.substr(pos, slash == kEnd ? std::string_view::npos : slash - pos);
    std::size_t next = slash == kEnd ? kEnd : slash + 1;
    // [MQTT-4.7.2-1]: no wildcard at the first level matches a '$' topic.
    bool wildcard_ok = !(pos == 0 && !level.empty() && level.front() == '$');
    if (wildcard_ok) {
      if (Node* h = node->hash(); h && h->value) emit(h->filter, *h->value);
      if (Node* p = node->plus()) stack.emplace_back(p, next);
    }
    if (Node* child = node->Literal(level)) stack.emplace_back(child, next);
  }
}

}  // namespace meshmq::broker
