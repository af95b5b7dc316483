// The outbound queue of one connection: encoded packets waiting to be written, handed out in
// batches for one gathered write. Shared by every transport (TCP, TLS, WebSocket) so the
// batching rule lives in one place.
//
// Small packets are copied into the queue's own byte blocks, back to back: a burst of QoS 0
// deliveries to one subscriber becomes one contiguous buffer, without an allocation per packet
// (a header string, a queue node) and without holding each message's payload block until the
// write. A payload larger than kInlinePayload stays shared with the other subscribers and is
// gathered by reference (one encoded copy per message, not per subscriber).
//
// An empty queue holds no heap memory: its storage (counters, chunk list, one block) goes back
// to a small per-thread pool once everything was written, and the next Push takes one from
// there; further blocks come from, and go back to, a per-thread pool too. So a connection that
// is idle costs one pointer here while a busy one does not allocate per write.
//
// Owned by one connection; touched only on its shard thread.
#pragma once

#include <boost/asio/buffer.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "codec/shared_bytes.h"

namespace meshmq::transport {

class WriteQueue {
 public:
  // At most this many chunks (a run of copied packets, or one packet with a shared payload) go
  // into one write, so one write's buffer list stays small.
  static constexpr std::size_t kMaxChunksPerWrite = 256;
  // Payloads up to this size are copied next to their header instead of shared.
  static constexpr std::size_t kInlinePayload = 256;
  // Bytes of the block built into the (pooled) storage, enough for a few packets: a queue that
  // only ever holds a CONNACK or a handful of messages needs no other block, so a burst of
  // connections does not leave kBlockBytes per connection behind in the heap.
  static constexpr std::size_t kFirstBlockBytes = 512;
  // Bytes per further block (per-thread pool); a header longer than a quarter of it (large v5
  // properties) is kept in its own allocation instead.
  static constexpr std::size_t kBlockBytes = 4096;

  WriteQueue() = default;
  ~WriteQueue();
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  // Queues one packet: `head` (copied) followed by `payload`.
  void Push(std::string_view head, codec::SharedBytes payload);

  // Buffers for the next write (up to kMaxChunksPerWrite chunks, starting after what a partial
  // write already sent); marks them as being written. Call only when !writing() and !empty().
  // The buffers stay valid while the write is in progress, whatever is pushed meanwhile.
  const std::vector<boost::asio::const_buffer>& NextBatch();
  // The write of the current batch ended after n bytes: drops what was written. A short write
  // (non-blocking socket, kernel buffer full) leaves the rest queued, the next batch resuming
  // inside the first unfinished chunk.
  void FinishBatch(std::size_t n);
  // Drops everything (after a write error).
  void Clear();

  bool empty() const { return !storage_ || storage_->head == storage_->chunks.size(); }
  bool writing() const { return storage_ && storage_->writing_chunks != 0; }
  std::size_t queued_bytes() const { return storage_ ? storage_->queued_bytes : 0; }
  // Whether heap storage is attached (false whenever the queue is empty and not writing).
  bool holds_storage() const { return storage_ != nullptr; }

  struct Block;  // write_queue.cc

 private:
  // Bytes in a block (copied packets, or a header followed by a shared payload), or a header
  // too long for a block in `spill`.
  struct Chunk {
    Block* block = nullptr;       // where `bytes` live; null for a spilled header
    const char* bytes = nullptr;  // the copied part
    std::size_t size = 0;         // its length
    codec::SharedBytes spill;     // owns `bytes` when block is null
    codec::SharedBytes payload;   // gathered after `bytes`; empty when copied in
    std::size_t total() const { return size + payload.size(); }
  };
  struct Storage {
    Storage();
    ~Storage();  // frees its pooled-size blocks
    // Chunks [head, size) are queued. A vector rather than a deque: chunks never point into
    // themselves (their bytes are in blocks or shared), so growing it moves nothing a write is
    // reading, and its capacity is reused from write to write.
    std::vector<Chunk> chunks;
    std::size_t head = 0;
    std::vector<Block*> blocks;  // oldest first; the last one takes new bytes
    std::vector<boost::asio::const_buffer> batch;  // the write in progress
    std::size_t front_written = 0;   // bytes of the head chunk already written (short writes)
    std::size_t writing_chunks = 0;  // chunks from head on being written now
    std::size_t queued_bytes = 0;
    Block* first;  // the built-in block below, first in `blocks` while it holds bytes
    alignas(std::max_align_t) char first_space[64 + kFirstBlockBytes];
  };
  // Room for n bytes at the end of the last block (a fresh block when it has none).
  Block& BlockFor(std::size_t n);
  void PopFront();
  // Returns the storage to the thread's pool once nothing is queued or being written.
  void ReleaseIfIdle();

  std::unique_ptr<Storage> storage_;  // null while nothing is queued or being written
};

}  // namespace meshmq::transport
