// The cluster's bookkeeping, free of gRPC and threads: the own route set with its digest, the
// sender-side forward buffer and the receiver-side de-duplication of one peer, the client-id
// registry and retained versions. Not thread-safe: ClusterNode::Impl guards each with its mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/cluster_port.h"
#include "broker/message.h"

namespace meshmq::cluster {

// Stable 64-bit hash of one filter (FNV-1a + a final mix); the same on every node and build.
uint64_t FilterHash(std::string_view filter);

// A node's route set: the filters it wants forwarded. The digest is the XOR of the filters'
// hashes, so it is order-independent and updated in O(1) per change.
class RouteSet {
 public:
  bool Add(const std::string& filter);     // false if already present
  bool Remove(const std::string& filter);  // false if absent
  void Replace(std::vector<std::string> filters, uint64_t seq);
  const std::set<std::string>& filters() const { return filters_; }
  uint64_t digest() const { return digest_; }
  uint64_t seq() const { return seq_; }
  void set_seq(uint64_t seq) { seq_ = seq; }
  uint64_t NextSeq() { return ++seq_; }

 private:
  std::set<std::string> filters_;
  uint64_t digest_ = 0;
  uint64_t seq_ = 0;
};

// Sender side of one peer: every forwarded message gets the next sequence; QoS > 0 messages stay
// until the peer acks them (cumulative ack), QoS 0 ones are sent at most once.
class ForwardBuffer {
 public:
  // What few forwards carry: kept off the common entry, which stays small (a deque block holds
  // several) and is copied cheaply by the writer.
  struct Extra {
    std::vector<std::string> shared_filters;
    std::optional<broker::SessionTarget> target;  // for one moved session only
  };
  struct Entry {
    uint64_t seq = 0;
    broker::MessagePtr msg;
    std::shared_ptr<const Extra> extra;  // null for a forward to ordinary subscribers only
    size_t bytes = 0;
    int64_t queued_at_us = 0;  // when the writer took it from the lane
    bool to_subscribers = false;
    bool sent_once = false;
  };

  explicit ForwardBuffer(size_t capacity_bytes) : capacity_(capacity_bytes) {}

  // False (nothing queued) when the entry would exceed the byte bound.
  bool Push(Entry entry);
  // What the writer packs of an entry.
  struct Taken {
    uint64_t seq = 0;
    broker::MessagePtr msg;
    bool to_subscribers = false;
    std::shared_ptr<const Extra> extra;
  };
  // Up to `max` entries not yet written on the current stream, in sequence order; marks them.
  // A QoS 0 message is never resent (Rewind drops it), so its entry gives the message up here:
  // the buffer keeps only its sequence and byte count until the ack. Held until the ack, the
  // message was freed by the thread that reads acks, not the shard that built it, and the
  // allocator's cross-thread path showed as a tenth of the sending node's time.
  // Appends them to `out` (the writer reuses one vector drain after drain).
  void TakeUnsent(size_t max, std::vector<Taken>* out);
  bool HasUnsent() const { return send_pos_ < entries_.size(); }
  // Drops every entry with seq <= acked; returns their queue times (for the latency histogram).
  // With `released`, the dropped messages are moved there, so the caller can free them after
  // releasing its lock (an ack can drop hundreds of messages).
  std::vector<int64_t> Ack(uint64_t acked, std::vector<broker::MessagePtr>* released = nullptr);
  // A new stream starts: resend from the oldest unacked entry; QoS 0 entries already written once
  // are dropped rather than resent.
  void Rewind();
  size_t size() const { return entries_.size(); }
  size_t bytes() const { return bytes_; }
  uint64_t next_seq() const { return next_seq_; }
  uint64_t resent() const { return resent_; }

 private:
  size_t capacity_;
  std::deque<Entry> entries_;
  size_t send_pos_ = 0;
  size_t bytes_ = 0;
  uint64_t next_seq_ = 1;
  uint64_t resent_ = 0;
};

// Receiver side of one origin node: de-duplicates by (incarnation, seq). The sender writes in
// sequence order on one ordered stream and resends in the same order, so anything at or below the
// highest sequence seen is a duplicate. The ack is the highest sequence below every message whose
// local delivery is still pending.
class ReceiveTracker {
 public:
  // Returns false for a duplicate. A new incarnation resets the state.
  bool Accept(uint64_t incarnation, uint64_t seq);
  void Done(uint64_t incarnation, uint64_t seq);
  // Done for every seq of `seqs` (increasing, as one batch accepted them): one search, then a walk.
  void Done(uint64_t incarnation, const std::vector<uint64_t>& seqs);
  uint64_t Acked() const;
  uint64_t incarnation() const { return incarnation_; }

 private:
  uint64_t incarnation_ = 0;
  uint64_t max_seen_ = 0;
  // Accepted and not yet delivered, in accept order, which is increasing sequence order: a deque
  // with done flags instead of a set, so the common case allocates nothing per message.
  struct Pending {
    uint64_t seq;
    bool done;
  };
  std::deque<Pending> pending_;
};

// Who holds which client id. A registration's version is (connected_at_ms, node id): the newest
// wins everywhere, so two nodes that disagree after a partition resolve it the same way.
class ClientRegistry {
 public:
  struct Version {
    int64_t at_ms = 0;
    std::string node_id;
    auto operator<=>(const Version&) const = default;
  };

  void SetLocal(const std::string& client_id, int64_t at_ms) { local_[client_id] = at_ms; }
  bool RemoveLocal(const std::string& client_id) { return local_.erase(client_id) > 0; }
  const std::map<std::string, int64_t>& local() const { return local_; }

  // A peer's registration. Returns true when it is newer than a local registration of the same
  // id, which is then removed here (the caller evicts the local client).
  bool AddRemote(const std::string& node_id, const std::string& client_id, int64_t at_ms,
                 const std::string& self_id);
  void RemoveRemote(const std::string& node_id, const std::string& client_id);
  void DropNode(const std::string& node_id) { remote_.erase(node_id); }
  // Newest registration of client_id across this node and its peers.
  std::optional<Version> Owner(const std::string& client_id, const std::string& self_id) const;

 private:
  std::map<std::string, int64_t> local_;
  std::map<std::string, std::map<std::string, int64_t>> remote_;  // node -> client -> at_ms
};

// Last-writer-wins versions of retained topics (deletes kept as tombstones so an older set that
// arrives late cannot resurrect a topic).
class RetainedVersions {
 public:
  // True when msg is newer than what is known for its topic (and records it).
  bool Offer(const broker::Message& msg);

 private:
  std::map<std::string, std::pair<int64_t, std::string>> versions_;
};

}  // namespace meshmq::cluster
