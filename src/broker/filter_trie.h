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
//
// A node does not keep its filter as a string (that was 32 bytes inline plus a heap copy per
// filter, in every shard's trie): Match rebuilds a matched filter from the topic levels it walked
// ('+' where it took a '+' branch), and only when the callback asks for it (MatchedFilter).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/node_hash_map.h"
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

  // The filter of one match, built from the walked topic levels on the first call of str()
  // (the publish path only needs it for shared groups). Valid during the callback only.
  class MatchedFilter {
   public:
    std::string_view str() const;
    operator std::string_view() const { return str(); }  // NOLINT: reads like the old string

   private:
    friend class FilterTrie;
    struct Step;
    MatchedFilter(std::string_view topic, const Step* steps, int last, bool hash, std::string* buf)
        : topic_(topic), steps_(steps), last_(last), hash_(hash), buf_(buf) {}
    std::string_view topic_;
    const Step* steps_;
    int last_;   // index in steps_ of the matched node (of the parent of a '#' match)
    bool hash_;  // the match is the '#' child of steps_[last_]
    std::string* buf_;
    mutable bool built_ = false;
  };

  // Returns the value stored for `filter`, default-constructing it first if absent. The reference
  // stays valid until that filter is erased (nodes never move).
  V& GetOrCreate(std::string_view filter) {
    Node* node = &root_;
    ForEachLevel(filter, [&node](std::string_view level) { node = node->GetOrCreateChild(level); });
    if (!node->value) {
      node->value.emplace();
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
  // levels are levels ("a//b", "/a"). fn is fn(const V&), fn(const MatchedFilter&, const V&)
  // (the filter built only if asked for) or fn(std::string_view filter, const V&); order of
  // calls is unspecified. fn must not modify the trie's structure (GetOrCreate/Erase) during the
  // walk.
  template <class F>
  void Match(std::string_view topic, F&& fn) const {
    const_cast<FilterTrie*>(this)->MatchImpl(topic, [&fn](const MatchedFilter& f, V& v) {
      Invoke(fn, f, static_cast<const V&>(v));
    });
  }
  // Same, giving mutable access: fn(V&), fn(const MatchedFilter&, V&) or
  // fn(std::string_view filter, V&).
  template <class F>
  void Match(std::string_view topic, F&& fn) {
    MatchImpl(topic, [&fn](const MatchedFilter& f, V& v) { Invoke(fn, f, v); });
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
  struct Kids;
  struct Node {
    std::unique_ptr<Kids> kids;
    std::optional<V> value;

    Node* plus() const { return kids ? kids->plus.get() : nullptr; }
    Node* hash() const { return kids ? kids->hash.get() : nullptr; }
    Node* Literal(std::string_view level) const {
      if (!kids) return nullptr;
      auto it = kids->children.find(Key(level));
      return it == kids->children.end() ? nullptr : &it->second;
    }
    Node* GetOrCreateChild(std::string_view level) {
      if (!kids) kids = std::make_unique<Kids>();
      if (level == "+") return GetOrMake(kids->plus);
      if (level == "#") return GetOrMake(kids->hash);
      auto it = kids->children.find(Key(level));
      if (it == kids->children.end()) it = kids->children.try_emplace(std::string(level)).first;
      return &it->second;
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

  // Default hash/eq for std::string keys are transparent: find(absl::string_view) does not
  // allocate. (Debian's Abseil has its own string_view type, hence Key() below.) A node map: the
  // child Node lives in the same heap block as its key, and a slot is one pointer (a flat map of
  // unique_ptr had a 40-byte slot per child plus a block per node); nodes never move.
  using ChildMap = absl::node_hash_map<std::string, Node>;
  // A node's children, on the heap: most nodes are leaves (one per subscribed filter), and an
  // empty map plus two pointers would cost them 56 bytes each.
  struct Kids {
    ChildMap children;
    std::unique_ptr<Node> plus;  // the '+' child
    std::unique_ptr<Node> hash;  // the '#' child
    bool empty() const { return !plus && !hash && children.empty(); }
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
  static void Invoke(F& fn, const MatchedFilter& filter, VV& v) {
    if constexpr (std::is_invocable_v<F&, const MatchedFilter&, VV&>) {
      fn(filter, v);
    } else if constexpr (std::is_invocable_v<F&, std::string_view, VV&>) {
      fn(filter.str(), v);
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

  // Rare (admin listings, tests): each pending node carries its filter, built level by level.
  template <class NodeT, class F>
  static void ForEachNode(NodeT* root, F& fn) {
    struct Pending {
      NodeT* node;
      std::string filter;
      bool is_root;
    };
    std::vector<Pending> stack;
    stack.push_back({root, std::string(), true});
    while (!stack.empty()) {
      Pending p = std::move(stack.back());
      stack.pop_back();
      if (p.node->value) fn(std::string_view(p.filter), *p.node->value);
      if (!p.node->kids) continue;
      auto push = [&](NodeT* child, std::string_view level) {
        std::string f = p.filter;
        if (!p.is_root) f.push_back('/');
        f.append(level);
        stack.push_back({child, std::move(f), false});
      };
      for (auto& [level, child] : p.node->kids->children) push(&child, level);
      if (p.node->kids->plus) push(p.node->kids->plus.get(), "+");
      if (p.node->kids->hash) push(p.node->kids->hash.get(), "#");
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
  --size_;
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    auto [parent, level] = *it;
    if (!parent->Child(level)->Removable()) break;
    parent->RemoveChild(level);
  }
  return true;
}

// One node reached by a Match walk: how it was reached, so a matched filter can be rebuilt.
template <class V>
struct FilterTrie<V>::MatchedFilter::Step {
  int parent;         // index of the parent's step, -1 for the root
  std::size_t begin;  // the topic level that led here: topic.substr(begin, len)
  std::size_t len;
  bool plus;  // reached through the parent's '+' child: the level is "+"
};

template <class V>
std::string_view FilterTrie<V>::MatchedFilter::str() const {
  if (!built_) {
    // Levels from the matched node up to the root, then joined in order.
    absl::InlinedVector<std::string_view, 16> levels;
    if (hash_) levels.push_back("#");
    for (int i = last_; i >= 0 && steps_[i].parent >= 0; i = steps_[i].parent) {
      const Step& s = steps_[i];
      levels.push_back(s.plus ? std::string_view("+") : topic_.substr(s.begin, s.len));
    }
    buf_->clear();
    for (auto it = levels.rbegin(); it != levels.rend(); ++it) {
      if (it != levels.rbegin()) buf_->push_back('/');
      buf_->append(*it);
    }
    built_ = true;
  }
  return *buf_;
}

template <class V>
template <class F>
void FilterTrie<V>::MatchImpl(std::string_view topic, F&& emit) {
  // Pending branches: a node, the offset in `topic` of the level it must match next (npos when
  // all levels are consumed) and its step. Explicit stack: no recursion depth bound by topic
  // length. `steps` records every node reached, so a matched filter can be rebuilt.
  constexpr std::size_t kEnd = std::string_view::npos;
  using Step = typename MatchedFilter::Step;
  struct Pending {
    Node* node;
    std::size_t pos;
    int step;
  };
  absl::InlinedVector<Pending, 16> stack;
  absl::InlinedVector<Step, 32> steps;
  std::string buf;  // the rebuilt filter, reused by every match of this walk
  auto found = [&](int step, bool hash, V& value) {
    MatchedFilter filter(topic, steps.data(), step, hash, &buf);
    emit(filter, value);
  };
  steps.push_back(Step{-1, 0, 0, false});
  stack.push_back(Pending{&root_, 0, 0});
  while (!stack.empty()) {
    auto [node, pos, step] = stack.back();
    stack.pop_back();
    // Down the literal path in place; only a '+' branch waits on the stack. Most filters have
    // no wildcard, so a walk is usually this one loop.
    for (;;) {
      if (pos == kEnd) {
        if (node->value) found(step, false, *node->value);
        // "a/#" also matches "a" [MQTT-4.7.1-2].
        if (Node* h = node->hash(); h && h->value) found(step, true, *h->value);
        break;
      }
      if (!node->kids) break;  // a leaf: nothing below matches the remaining levels
      std::size_t slash = topic.find('/', pos);
      std::size_t len = slash == kEnd ? topic.size() - pos : slash - pos;
      std::string_view level = topic.substr(pos, len);
      std::size_t next = slash == kEnd ? kEnd : slash + 1;
      // [MQTT-4.7.2-1]: no wildcard at the first level matches a '$' topic.
      bool wildcard_ok = !(pos == 0 && !level.empty() && level.front() == '$');
      if (wildcard_ok) {
        if (Node* h = node->hash(); h && h->value) found(step, true, *h->value);
        if (Node* p = node->plus()) {
          steps.push_back(Step{step, pos, len, true});
          stack.push_back(Pending{p, next, static_cast<int>(steps.size() - 1)});
        }
      }
      Node* child = node->Literal(level);
      if (child == nullptr) break;
      steps.push_back(Step{step, pos, len, false});
      node = child;
      pos = next;
      step = static_cast<int>(steps.size() - 1);
    }
  }
}

}  // namespace meshmq::broker
