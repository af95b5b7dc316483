#include "transport/write_queue.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <string>
#include <utility>

namespace meshmq::transport {

// Followed in memory by `capacity` bytes.
struct WriteQueue::Block {
  std::size_t capacity;
  std::size_t used = 0;  // bytes handed out from the start
  std::size_t live = 0;  // of those, bytes of chunks still queued
  bool built_in;         // Storage::first: never freed on its own
  char* data() { return reinterpret_cast<char*>(this + 1); }
};

namespace {

// What is kept per thread for the next connection that has something to write. Bounded in
// count and in the size of what is kept, so a burst does not pin memory forever.
constexpr std::size_t kPoolSize = 256;
constexpr std::size_t kMaxPooledBatch = 2 * WriteQueue::kMaxChunksPerWrite;
constexpr std::size_t kMaxPooledChunks = 1024;
constexpr std::size_t kBlockPoolSize = 16;  // 64 KiB per thread at most

// Chunks popped from the front are erased in one go once they are this many and at least half
// of the vector, so a queue that never drains completely does not grow without bound.
constexpr std::size_t kCompactAfter = 64;

void DeleteBlock(WriteQueue::Block* b) {
  b->~Block();
  ::operator delete(static_cast<void*>(b));
}

struct BlockPool {
  std::vector<WriteQueue::Block*> free;
  ~BlockPool() {
    for (WriteQueue::Block* b : free) DeleteBlock(b);
  }
};

BlockPool& Blocks() {
  thread_local BlockPool pool;
  return pool;
}

WriteQueue::Block* TakeBlock() {
  auto& free = Blocks().free;
  if (free.empty()) {
    void* p = ::operator new(sizeof(WriteQueue::Block) + WriteQueue::kBlockBytes);
    return new (p) WriteQueue::Block{WriteQueue::kBlockBytes, 0, 0, false};
  }
  WriteQueue::Block* b = free.back();
  free.pop_back();
  b->used = b->live = 0;
  return b;
}

// A pooled-size block no queue needs any more (the built-in one stays with its storage).
void GiveBlock(WriteQueue::Block* b) {
  if (b->built_in) return;
  auto& free = Blocks().free;
  if (free.size() < kBlockPoolSize) {
    free.push_back(b);
  } else {
    DeleteBlock(b);
  }
}

template <typename Storage>
std::vector<std::unique_ptr<Storage>>& Pool() {
  thread_local std::vector<std::unique_ptr<Storage>> pool;
  return pool;
}

}  // namespace

static_assert(sizeof(WriteQueue::Block) <= 64, "Storage::first_space holds the header");

WriteQueue::Storage::Storage()
    : first(new (first_space) Block{kFirstBlockBytes, 0, 0, true}) {}

WriteQueue::Storage::~Storage() {
  for (Block* b : blocks) {
    if (!b->built_in) DeleteBlock(b);
  }
}

WriteQueue::~WriteQueue() {
  Clear();
}

WriteQueue::Block& WriteQueue::BlockFor(std::size_t n) {
  Storage& s = *storage_;
  if (!s.blocks.empty()) {
    Block* last = s.blocks.back();
    if (last->live == 0) last->used = 0;  // no queued chunk points into it any more
    if (last->capacity - last->used >= n) return *last;
  } else if (n <= kFirstBlockBytes) {
    s.first->used = s.first->live = 0;
    s.blocks.push_back(s.first);
    return *s.first;
  }
  s.blocks.push_back(TakeBlock());
  return *s.blocks.back();
}

void WriteQueue::Push(std::string_view head, codec::SharedBytes payload) {
  if (!storage_) {
    auto& pool = Pool<Storage>();
    if (pool.empty()) {
      storage_ = std::make_unique<Storage>();
    } else {
      storage_ = std::move(pool.back());
      pool.pop_back();
    }
  }
  Storage& s = *storage_;
  s.queued_bytes += head.size() + payload.size();
  const bool copy_payload = payload.size() <= kInlinePayload;
  if (head.size() > kBlockBytes / 4) {  // rare: a header with large v5 properties
    std::string own(head);
    if (copy_payload) own.append(payload.view());
    Chunk& c = s.chunks.emplace_back();
    c.spill = codec::SharedBytes(std::move(own));
    c.bytes = c.spill.data();
    c.size = c.spill.size();
    if (!copy_payload) c.payload = std::move(payload);
    return;
  }
  const std::size_t n = head.size() + (copy_payload ? payload.size() : 0);
  Block& b = BlockFor(n);
  char* at = b.data() + b.used;
  std::memcpy(at, head.data(), head.size());
  if (copy_payload && !payload.empty()) {
    std::memcpy(at + head.size(), payload.data(), payload.size());
  }
  b.used += n;
  b.live += n;
  // Right behind the last chunk's bytes, which have no payload after them and are not being
  // written: one chunk grows, one buffer in the next write.
  if (s.chunks.size() > s.head + s.writing_chunks) {
    Chunk& last = s.chunks.back();
    if (last.block == &b && last.payload.empty() && last.bytes + last.size == at) {
      last.size += n;
      if (!copy_payload) last.payload = std::move(payload);
      return;
    }
  }
  Chunk& c = s.chunks.emplace_back();
  c.block = &b;
  c.bytes = at;
  c.size = n;
  if (!copy_payload) c.payload = std::move(payload);
}

const std::vector<boost::asio::const_buffer>& WriteQueue::NextBatch() {
  Storage& s = *storage_;
  std::size_t count = std::min(s.chunks.size() - s.head, kMaxChunksPerWrite);
  s.batch.clear();
  s.batch.reserve(count * 2);
  std::size_t skip = s.front_written;  // only ever inside the first chunk
  for (std::size_t i = s.head; i < s.head + count; ++i) {
    const Chunk& c = s.chunks[i];
    if (skip < c.size) {
      s.batch.emplace_back(c.bytes + skip, c.size - skip);
      skip = 0;
    } else {
      skip -= c.size;
    }
    if (skip < c.payload.size()) s.batch.emplace_back(c.payload.data() + skip, c.payload.size() - skip);
    skip = 0;
  }
  s.writing_chunks = count;
  return s.batch;
}

void WriteQueue::PopFront() {
  Storage& s = *storage_;
  Chunk& c = s.chunks[s.head];
  if (Block* b = c.block) {
    b->live -= c.size;
    if (b->live == 0 && b != s.blocks.back()) {  // the last block stays for the next bytes
      s.blocks.erase(std::find(s.blocks.begin(), s.blocks.end(), b));
      GiveBlock(b);
    }
  }
  c = Chunk{};  // lets go of a shared payload now, not when the slot is reused
  ++s.head;
  if (s.head == s.chunks.size()) {
    s.chunks.clear();
    s.head = 0;
  } else if (s.head >= kCompactAfter && 2 * s.head >= s.chunks.size()) {
    s.chunks.erase(s.chunks.begin(), s.chunks.begin() + static_cast<std::ptrdiff_t>(s.head));
    s.head = 0;
  }
}

void WriteQueue::FinishBatch(std::size_t n) {
  if (!storage_) return;
  Storage& s = *storage_;
  s.queued_bytes -= std::min(n, s.queued_bytes);
  for (std::size_t i = 0; i < s.writing_chunks && s.head < s.chunks.size(); ++i) {
    std::size_t left = s.chunks[s.head].total() - s.front_written;
    if (n < left) {  // a short write ended inside this chunk
      s.front_written += n;
      break;
    }
    n -= left;
    s.front_written = 0;
    PopFront();
  }
  s.writing_chunks = 0;
  ReleaseIfIdle();
}

void WriteQueue::Clear() {
  if (!storage_) return;
  Storage& s = *storage_;
  s.writing_chunks = 0;
  s.front_written = 0;
  while (s.head < s.chunks.size()) PopFront();
  s.queued_bytes = 0;
  ReleaseIfIdle();
}

void WriteQueue::ReleaseIfIdle() {
  if (!storage_ || storage_->writing_chunks != 0 || !empty()) return;
  Storage& s = *storage_;
  // Every block is empty now: pooled-size ones go back to the thread's pool; the storage keeps
  // only its built-in one.
  for (Block* b : s.blocks) GiveBlock(b);
  s.blocks.clear();
  auto& pool = Pool<Storage>();
  if (pool.size() < kPoolSize && s.batch.capacity() <= kMaxPooledBatch &&
      s.chunks.capacity() <= kMaxPooledChunks) {
    s.batch.clear();
    s.queued_bytes = 0;  // the next connection starts from zero whatever was counted
    pool.push_back(std::move(storage_));
  }
  storage_.reset();
}

}  // namespace meshmq::transport
