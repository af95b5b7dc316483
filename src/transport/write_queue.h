// The outbound queue of one connection: encoded packets (a header plus an optional payload shared
// with other subscribers) waiting to be written, handed out in batches for one gathered write.
// Shared by every transport (TCP, TLS, WebSocket) so the batching rule lives in one place.
//
// Owned by one connection; touched only on its shard thread.
#pragma once

#include <boost/asio/buffer.hpp>
#include <cstddef>
#include <deque>
#include <string>
#include <vector>

#include "codec/shared_bytes.h"

namespace meshmq::transport {

class WriteQueue {
 public:
  // At most this many packets go into one write, so one write's buffer list stays small.
  static constexpr std::size_t kMaxChunksPerWrite = 256;

  void Push(std::string head, codec::SharedBytes payload);

  // Buffers for the next write (up to kMaxChunksPerWrite packets); marks them as being written.
  // Call only when !writing() and !empty().
  const std::vector<boost::asio::const_buffer>& NextBatch();
  // The write of the current batch ended (n bytes written): drops the batch.
  void FinishBatch(std::size_t n);
  // Drops everything (after a write error).
  void Clear();

  bool empty() const { return chunks_.empty(); }
  bool writing() const { return writing_chunks_ != 0; }
  std::size_t queued_bytes() const { return queued_bytes_; }

 private:
  struct Chunk {
    std::string head;
    codec::SharedBytes payload;
  };
  std::deque<Chunk> chunks_;
  std::vector<boost::asio::const_buffer> batch_;  // reused between writes
  std::size_t writing_chunks_ = 0;  // chunks at the front of chunks_ being written now
  std::size_t queued_bytes_ = 0;
};

}  // namespace meshmq::transport
