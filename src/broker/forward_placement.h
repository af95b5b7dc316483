// Which shard of this node first handles the messages one peer forwards, per topic.
//
// A forwarded message used to go to the shard picked by its topic's hash. In a 1:1 load half the
// subscribers sit on another shard, so half the messages were routed twice: matched on the
// hashed shard, handed off, matched again on the subscriber's shard (two tasks, two wake-ups,
// two trie walks). A shard that finds a forwarded message had no subscriber of its own and went
// to exactly one other shard proposes that shard for the topic; later messages of the topic go
// there first.
//
// Order: one publisher's messages of a topic must reach a subscriber in the order sent
// [MQTT-4.6.0-5]. Messages already posted to the old shard may still be handed off to the new
// one; a message posted straight to the new shard could overtake them. So proposals only take
// effect when none of this peer's parts is outstanding: every hand-off of earlier parts has then
// been posted, and a shard's task queue is first in, first out.
//
// A wrong or stale hint costs a hand-off, never a message: any shard can route any message.
// Thread rules: ShardFor/PartPosted/ApplyIfIdle on the peer's receiving thread (one at a time,
// under the cluster's per-peer order lock); Propose/PartDone on shards.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace meshmq::broker {

class ForwardPlacement {
 public:
  static constexpr size_t kSlots = size_t{1} << 14;  // topics share a slot by hash: 16 KiB per peer

  ForwardPlacement() : hints_(std::make_unique<std::atomic<uint8_t>[]>(kSlots)) {}

  // The shard for a message whose topic hashes to `hash`, among `shards`.
  size_t ShardFor(size_t hash, size_t shards) const {
    uint8_t hint = hints_[hash % kSlots].load(std::memory_order_relaxed);
    return hint != 0 && hint <= shards ? hint - 1 : hash % shards;
  }
  // True when a topic hashing to `hash` already goes to `shard` first.
  bool Places(size_t hash, size_t shard) const {
    return hints_[hash % kSlots].load(std::memory_order_relaxed) == shard + 1;
  }

  void PartPosted() { outstanding_.fetch_add(1, std::memory_order_relaxed); }
  // After the part's routing (and so its hand-offs) is done.
  void PartDone() { outstanding_.fetch_sub(1, std::memory_order_acq_rel); }

  // From a shard: send topics of these hashes to these shards first.
  void Propose(const std::vector<std::pair<size_t, uint8_t>>& hash_to_shard) {
    if (hash_to_shard.empty()) return;
    std::lock_guard<std::mutex> lock(mu_);
    // Bounded: a peer whose topics never settle cannot grow this past the table's size.
    for (const auto& p : hash_to_shard) {
      if (proposals_.size() >= kSlots) break;
      proposals_.push_back(p);
    }
    has_proposals_.store(true, std::memory_order_release);
  }

  // Applies the proposals if no part is outstanding (see "Order" above). Returns how many.
  size_t ApplyIfIdle() {
    if (!has_proposals_.load(std::memory_order_acquire)) return 0;
    if (outstanding_.load(std::memory_order_acquire) != 0) return 0;
    std::vector<std::pair<size_t, uint8_t>> taken;
    {
      std::lock_guard<std::mutex> lock(mu_);
      taken.swap(proposals_);
      has_proposals_.store(false, std::memory_order_relaxed);
    }
    for (const auto& [hash, shard] : taken) {
      hints_[hash % kSlots].store(static_cast<uint8_t>(shard + 1), std::memory_order_relaxed);
    }
    return taken.size();
  }

  size_t outstanding() const { return outstanding_.load(std::memory_order_relaxed); }

 private:
  std::unique_ptr<std::atomic<uint8_t>[]> hints_;  // shard + 1; 0 = by hash
  std::atomic<size_t> outstanding_{0};
  std::mutex mu_;
  std::vector<std::pair<size_t, uint8_t>> proposals_;
  std::atomic<bool> has_proposals_{false};
};

}  // namespace meshmq::broker
