// The publish path into the cluster: per peer, a bounded multi-producer queue that broker shards
// fill and the peer's stream writer drains into batches (docs/architecture.md, "A publish across
// nodes").
//
// Why not the cluster mutex: every shard forwarding to every peer used to take ClusterNode's one
// mutex per message, and the writer held it while encoding batches, so shards waited on each other
// and on the encoder. A lane instead has one small slot per producing thread (a thread keeps its
// slot for life, so one publisher's messages stay in order), a byte budget shared by the lane and
// the peer's unacknowledged buffer (never unbounded memory: a full budget refuses the message and
// counts it), and a wake flag so only the first message after a drain wakes the writer.
//
// Threads: Push from any thread; Drain, Arm from the one writer of the peer's forward stream;
// Release from whoever drops entries (under ClusterNode's mutex). No mutex shared by all shards:
// each slot's mutex is taken by its own thread and, once per drain, by the writer.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cluster/cluster_state.h"

namespace meshmq::cluster {

class ForwardLane {
 public:
  using Entry = ForwardBuffer::Entry;
  enum class PushResult { kQueued, kQueuedWake, kClosed, kFull };
  static constexpr size_t kSlots = 16;

  ForwardLane(std::string node_id, size_t budget_bytes);
  ForwardLane(const ForwardLane&) = delete;
  ForwardLane& operator=(const ForwardLane&) = delete;

  const std::string& node_id() const { return node_id_; }

  // Any thread. kQueuedWake: the writer may be asleep with nothing to do, wake it.
  PushResult Push(Entry&& entry);
  // The writer, before Drain: any later Push returns kQueuedWake (once).
  void Arm() { armed_.store(true, std::memory_order_seq_cst); }
  // The writer: moves every queued entry out, slot by slot, each slot in push order.
  void Drain(std::vector<Entry>* out);
  // Held by a writer from Drain until the drained entries are numbered. Normally one stream
  // writer drains a lane, but while a stream to the peer is being replaced (another address of the
  // same node) an old writer can still be draining: two drains numbered in the other order would
  // swap a producer's messages.
  std::unique_lock<std::mutex> LockWriter() { return std::unique_lock<std::mutex>(writer_mu_); }
  // Entries left the peer's buffer (acked, or best-effort ones dropped): their bytes are free.
  void Release(size_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }
  // Who drains the lane (the peer's current forward stream writer); empty while none.
  void SetWaker(std::function<void()> waker);
  // Called by the pusher that got kQueuedWake.
  void Wake();
  // Closed while the peer is unknown, down or gone, and when the node stops: Push refuses.
  void SetOpen(bool open) { open_.store(open, std::memory_order_release); }

  size_t used_bytes() const { return used_.load(std::memory_order_relaxed); }
  size_t Pending() const;      // entries pushed and not yet drained
  uint64_t Accepted() const;   // pushes queued, over the lane's life
  uint64_t Refused() const;    // pushes refused (closed or full)

 private:
  // One per producing thread (modulo kSlots), on its own cache line.
  struct alignas(64) Slot {
    mutable std::mutex mu;
    std::vector<Entry> entries;  // guarded by mu
    uint64_t accepted = 0;       // guarded by mu
    uint64_t refused = 0;        // guarded by mu
  };
  static size_t ThreadSlot();
  template <typename Fn>
  uint64_t SumSlots(Fn fn) const;  // fn(slot) under each slot's mutex, summed

  const std::string node_id_;
  const size_t budget_;
  alignas(64) std::atomic<size_t> used_{0};
  std::atomic<bool> open_{false};
  std::atomic<bool> armed_{true};
  std::array<Slot, kSlots> slots_;
  std::mutex writer_mu_;  // see LockWriter
  std::mutex waker_mu_;  // taken once per drain at most, never per message under load
  std::function<void()> waker_;  // guarded by waker_mu_
};

// node id -> lane, read without a lock: an open-addressing table of atomic pointers that only
// grows (a peer's lane lives as long as the node). Insert under the caller's mutex; Find from any
// thread. A full table is replaced by one twice the size; old tables stay until destruction so a
// reader still probing one is safe.
class LaneDirectory {
 public:
  LaneDirectory();
  ~LaneDirectory();
  ForwardLane* Find(const std::string& node_id) const;
  // Caller serialises inserts. Returns the lane for node_id, creating it if needed.
  ForwardLane* Insert(const std::string& node_id, size_t budget_bytes);
  template <typename Fn>
  void ForEach(Fn fn) const {
    for (const auto& lane : owned_) fn(*lane);
  }

 private:
  struct Table {
    explicit Table(size_t n) : slots(n) {}
    std::vector<std::atomic<ForwardLane*>> slots;
  };
  static void Place(Table& t, ForwardLane* lane);

  std::atomic<Table*> table_;
  std::vector<std::unique_ptr<Table>> tables_;      // every table ever published
  std::vector<std::unique_ptr<ForwardLane>> owned_;  // guarded by the caller's mutex
};

}  // namespace meshmq::cluster
