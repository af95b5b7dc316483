// The outbound queue of one connection: encoded packets (a header plus an optional payload shared
// with other subscribers) waiting to be written, handed out in batches for one gathered write.
// Shared by every transport (TCP, TLS, WebSocket) so the batching rule lives in one place.
//
// An empty queue holds no heap memory: its storage (with the counters) goes back to a small
// per-thread pool once everything was written, and the next Push takes one from there, so a
// connection that is idle costs one pointer here while a busy one does not allocate per write.
//
// Owned by one connection; touched only on its shard thread.
#pragma once

#include <boost/asio/buffer.hpp>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "codec/shared_bytes.h"

namespace meshmq::transport {

class WriteQueue {
 public:
  // At most this many packets go into one write, so one write's buffer list stays small.
  static constexpr std::size_t kMaxChunksPerWrite = 256;

  WriteQueue() = default;
  ~WriteQueue();
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  void Push(std::string head, codec::SharedBytes payload);

  // Buffers for the next write (up to kMaxChunksPerWrite packets, starting after what a partial
  // write already sent); marks them as being written. Call only when !writing() and !empty().
  const std::vector<boost::asio::const_buffer>& NextBatch();
  // The write of the current batch ended after n bytes: drops what was written. A short write
  // (non-blocking socket, kernel buffer full) leaves the rest queued, the next batch resuming
  // inside the first unfinished packet.
  void FinishBatch(std::size_t n);
  // Drops everything (after a write error).
  void Clear();

  bool empty() const { return !storage_ || storage_->chunks.empty(); }
  bool writing() const { return storage_ && storage_->writing_chunks != 0; }
  std::size_t queued_bytes() const { return storage_ ? storage_->queued_bytes : 0; }
  // Whether heap storage is attached (false whenever the queue is empty and not writing).
  bool holds_storage() const { return storage_ != nullptr; }

 private:
  struct Chunk {
    std::string head;
    codec::SharedBytes payload;
  };
  struct Storage {
    // A deque: pushing while a write is in progress must not move the chunks being written
    // (short heads live inside the std::string object itself).
    std::deque<Chunk> chunks;
    std::vector<boost::asio::const_buffer> batch;  // the write in progress
    std::size_t front_written = 0;  // bytes of chunks.front() already written (short writes)
    std::size_t writing_chunks = 0;  // chunks at the front of the queue being written now
    std::size_t queued_bytes = 0;
  };
  // Returns the storage to the thread's pool once nothing is queued or being written.
  void ReleaseIfIdle();

  std::unique_ptr<Storage> storage_;  // null while nothing is queued or being written
};

}  // namespace meshmq::transport
