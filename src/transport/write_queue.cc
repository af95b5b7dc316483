#include "transport/write_queue.h"

#include <algorithm>

namespace meshmq::transport {
namespace {

// Storage kept per thread for the next connection that has something to write. Bounded in
// count and in the size of what is kept, so a burst does not pin memory forever.
constexpr std::size_t kPoolSize = 256;
constexpr std::size_t kMaxPooledBatch = 2 * 256;

template <typename Storage>
std::vector<std::unique_ptr<Storage>>& Pool() {
  thread_local std::vector<std::unique_ptr<Storage>> pool;
  return pool;
}

}  // namespace

WriteQueue::~WriteQueue() {
  Clear();
}

void WriteQueue::Push(std::string head, codec::SharedBytes payload) {
  if (!storage_) {
    auto& pool = Pool<Storage>();
    if (pool.empty()) {
      storage_ = std::make_unique<Storage>();
    } else {
      storage_ = std::move(pool.back());
      pool.pop_back();
    }
  }
  storage_->queued_bytes += head.size() + payload.size();
  storage_->chunks.push_back(Chunk{std::move(head), std::move(payload)});
}

const std::vector<boost::asio::const_buffer>& WriteQueue::NextBatch() {
  Storage& s = *storage_;
  std::size_t count = std::min(s.chunks.size(), kMaxChunksPerWrite);
  s.batch.clear();
  s.batch.reserve(count * 2);
  std::size_t skip = s.front_written;  // only ever inside the first chunk
  for (std::size_t i = 0; i < count; ++i) {
    const std::string& head = s.chunks[i].head;
    if (skip < head.size()) {
      s.batch.emplace_back(head.data() + skip, head.size() - skip);
      skip = 0;
    } else {
      skip -= head.size();
    }
    const codec::SharedBytes& payload = s.chunks[i].payload;
    if (skip < payload.size()) s.batch.emplace_back(payload.data() + skip, payload.size() - skip);
    skip = 0;
  }
  s.writing_chunks = count;
  return s.batch;
}

void WriteQueue::FinishBatch(std::size_t n) {
  if (!storage_) return;
  Storage& s = *storage_;
  s.queued_bytes -= std::min(n, s.queued_bytes);
  for (std::size_t i = 0; i < s.writing_chunks && !s.chunks.empty(); ++i) {
    const Chunk& front = s.chunks.front();
    std::size_t left = front.head.size() + front.payload.size() - s.front_written;
    if (n < left) {  // a short write ended inside this packet
      s.front_written += n;
      break;
    }
    n -= left;
    s.front_written = 0;
    s.chunks.pop_front();
  }
  s.writing_chunks = 0;
  ReleaseIfIdle();
}

void WriteQueue::Clear() {
  if (!storage_) return;
  storage_->chunks.clear();
  storage_->front_written = 0;
  storage_->writing_chunks = 0;
  storage_->queued_bytes = 0;
  ReleaseIfIdle();
}

void WriteQueue::ReleaseIfIdle() {
  if (!storage_ || storage_->writing_chunks != 0 || !storage_->chunks.empty()) return;
  auto& pool = Pool<Storage>();
  if (pool.size() < kPoolSize && storage_->batch.capacity() <= kMaxPooledBatch) {
    storage_->batch.clear();
    storage_->queued_bytes = 0;  // the next connection starts from zero whatever was counted
    pool.push_back(std::move(storage_));
  }
  storage_.reset();
}

}  // namespace meshmq::transport
