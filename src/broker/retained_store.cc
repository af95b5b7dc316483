#include "broker/retained_store.h"

#include <tuple>

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"

namespace meshmq::broker {
namespace {

constexpr std::size_t kEnd = std::string_view::npos;

// The level of `s` starting at `pos`; `next` becomes the start of the following level, or kEnd
// after the last one. Empty levels are levels ("a//b", "/a").
std::string_view LevelAt(std::string_view s, std::size_t pos, std::size_t& next) {
  std::size_t slash = s.find('/', pos);
  next = slash == kEnd ? kEnd : slash + 1;
  return s.substr(pos, slash == kEnd ? kEnd : slash - pos);
}

// Debian's Abseil has its own string_view type; the map's transparent lookup wants that one.
absl::string_view Key(std::string_view s) { return {s.data(), s.size()}; }

bool IsDollar(std::string_view key) { return !key.empty() && key.front() == '$'; }

}  // namespace

RetainedStore::RetainedStore(Options options) : options_(std::move(options)) {}
RetainedStore::~RetainedStore() = default;

int64_t RetainedStore::Now() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

template <class NodeT>
NodeT* RetainedStore::FindIn(NodeT* root, std::string_view topic) {
  NodeT* node = root;
  std::size_t pos = 0;
  while (pos != kEnd) {
    std::string_view level = LevelAt(topic, pos, pos);
    auto it = node->children.find(Key(level));
    if (it == node->children.end()) return nullptr;
    node = it->second.get();
  }
  return node;
}

bool RetainedStore::SetIfNewer(MessagePtr msg) {
  if (!msg) return false;
  absl::MutexLock lock(&mu_);
  // Replication: last writer wins by (timestamp, origin node) so every node converges on the
  // same message whatever order updates arrive in.
  if (Node* node = FindIn(&root_, msg->topic); node != nullptr && node->msg) {
    const Message& held = *node->msg;
    if (std::tie(held.timestamp_ms, held.origin_node) > std::tie(msg->timestamp_ms, msg->origin_node)) {
      return false;
    }
  }
  return SetLocked(std::move(msg));
}

bool RetainedStore::Set(MessagePtr msg) {
  if (!msg) return false;
  absl::MutexLock lock(&mu_);
  return SetLocked(std::move(msg));
}

bool RetainedStore::SetLocked(MessagePtr msg) {
  // [MQTT-3.3.1-6]: a retained message with an empty payload removes the retained message, and
  // [MQTT-3.3.1-7] it is not stored itself.
  if (msg->payload.empty()) return Delete(msg->topic);
  if (Node* node = FindIn(&root_, msg->topic); node != nullptr && node->msg) {
    bytes_ = bytes_ - CostOf(*node->msg) + CostOf(*msg);
    node->msg = std::move(msg);
    return true;
  }
  if (options_.max_messages != 0 && count_ >= options_.max_messages) return false;
  Node* node = &root_;
  std::size_t pos = 0;
  while (pos != kEnd) {
    std::string_view level = LevelAt(msg->topic, pos, pos);
    auto it = node->children.find(Key(level));
    if (it == node->children.end()) {
      it = node->children.emplace(std::string(level), std::make_unique<Node>()).first;
    }
    node = it->second.get();
  }
  ++count_;
  bytes_ += CostOf(*msg);
  node->msg = std::move(msg);
  return true;
}

MessagePtr RetainedStore::Get(std::string_view topic) const {
  int64_t now = Now();
  absl::ReaderMutexLock lock(&mu_);
  const Node* node = FindIn(&root_, topic);
  if (node == nullptr || !Live(node->msg, now)) return nullptr;
  return node->msg;
}

bool RetainedStore::Remove(std::string_view topic) {
  absl::MutexLock lock(&mu_);
  return Delete(topic);
}

bool RetainedStore::Delete(std::string_view topic) {
  // (parent, level) pairs so that nodes left empty can be unlinked bottom-up.
  absl::InlinedVector<std::pair<Node*, std::string_view>, 16> path;
  Node* node = &root_;
  std::size_t pos = 0;
  while (pos != kEnd) {
    std::string_view level = LevelAt(topic, pos, pos);
    auto it = node->children.find(Key(level));
    if (it == node->children.end()) return false;
    path.emplace_back(node, level);
    node = it->second.get();
  }
  if (!node->msg) return false;
  --count_;
  bytes_ -= CostOf(*node->msg);
  node->msg.reset();
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    auto child = it->first->children.find(Key(it->second));
    if (child->second->msg || !child->second->children.empty()) break;
    it->first->children.erase(child);
  }
  return true;
}

void RetainedStore::CollectSubtree(const Node* node, bool skip_dollar, int64_t now_ms,
                                   std::vector<MessagePtr>& out) {
  absl::InlinedVector<const Node*, 32> stack;
  if (Live(node->msg, now_ms)) out.push_back(node->msg);
  for (const auto& [key, child] : node->children) {
    if (!(skip_dollar && IsDollar(key))) stack.push_back(child.get());
  }
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (Live(n->msg, now_ms)) out.push_back(n->msg);
    for (const auto& [key, child] : n->children) stack.push_back(child.get());
  }
}

void RetainedStore::CollectMatches(std::string_view filter, int64_t now_ms,
                                   std::vector<MessagePtr>& out) const {
  // Pending (node, offset of the filter level it must match next, or kEnd when consumed).
  absl::InlinedVector<std::pair<const Node*, std::size_t>, 16> stack;
  stack.emplace_back(&root_, 0);
  while (!stack.empty()) {
    auto [node, pos] = stack.back();
    stack.pop_back();
    if (pos == kEnd) {
      if (Live(node->msg, now_ms)) out.push_back(node->msg);
      continue;
    }
    std::size_t next;
    std::string_view level = LevelAt(filter, pos, next);
    bool first = pos == 0;
    if (level == "#") {
      // The parent level too: "a/#" matches "a" [MQTT-4.7.1-2]; a '$' topic never matches a
      // leading wildcard [MQTT-4.7.2-1].
      CollectSubtree(node, first, now_ms, out);
    } else if (level == "+") {
      for (const auto& [key, child] : node->children) {
        if (!(first && IsDollar(key))) stack.emplace_back(child.get(), next);
      }
    } else if (auto it = node->children.find(Key(level)); it != node->children.end()) {
      stack.emplace_back(it->second.get(), next);
    }
  }
}

void RetainedStore::Match(std::string_view filter,
                          const std::function<void(const MessagePtr&)>& fn) const {
  for (const MessagePtr& m : Match(filter)) fn(m);
}

std::vector<MessagePtr> RetainedStore::Match(std::string_view filter) const {
  int64_t now = Now();
  std::vector<MessagePtr> out;
  absl::ReaderMutexLock lock(&mu_);
  CollectMatches(filter, now, out);
  return out;
}

std::vector<MessagePtr> RetainedStore::List(std::string_view prefix, std::size_t offset,
                                            std::size_t limit) const {
  int64_t now = Now();
  std::vector<MessagePtr> out;
  {
    absl::ReaderMutexLock lock(&mu_);
    // Whole levels of the prefix are followed exactly; its last, partial level selects the
    // children whose level starts with it.
    const Node* node = &root_;
    std::size_t pos = 0;
    std::string_view partial = prefix;
    for (std::size_t slash; node != nullptr && (slash = prefix.find('/', pos)) != kEnd;) {
      auto it = node->children.find(Key(prefix.substr(pos, slash - pos)));
      node = it == node->children.end() ? nullptr : it->second.get();
      pos = slash + 1;
    }
    if (node == nullptr) return out;
    partial = prefix.substr(pos);
    for (const auto& [key, child] : node->children) {
      if (std::string_view(key).substr(0, partial.size()) == partial) {
        CollectSubtree(child.get(), false, now, out);
      }
    }
  }
  if (offset >= out.size()) return {};
  std::size_t end = out.size() - offset > limit ? offset + limit : out.size();
  auto by_topic = [](const MessagePtr& a, const MessagePtr& b) { return a->topic < b->topic; };
  std::partial_sort(out.begin(), out.begin() + end, out.end(), by_topic);
  out.erase(out.begin() + end, out.end());
  out.erase(out.begin(), out.begin() + offset);
  return out;
}

std::size_t RetainedStore::PurgeExpired(int64_t now_ms) {
  absl::MutexLock lock(&mu_);
  // Collect first, then delete through the pruning path: the tree is not mutated mid-walk.
  std::vector<std::string> expired;
  absl::InlinedVector<const Node*, 32> stack{&root_};
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (n->msg && !Live(n->msg, now_ms)) expired.push_back(n->msg->topic);
    for (const auto& [key, child] : n->children) stack.push_back(child.get());
  }
  for (const std::string& topic : expired) Delete(topic);
  return expired.size();
}

std::size_t RetainedStore::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return count_;
}

std::size_t RetainedStore::Bytes() const {
  absl::ReaderMutexLock lock(&mu_);
  return bytes_;
}

}  // namespace meshmq::broker
