#include "transport/write_queue.h"

#include <algorithm>

namespace meshmq::transport {

void WriteQueue::Push(std::string head, codec::SharedBytes payload) {
  queued_bytes_ += head.size() + payload.size();
  chunks_.push_back(Chunk{std::move(head), std::move(payload)});
}

const std::vector<boost::asio::const_buffer>& WriteQueue::NextBatch() {
  std::size_t count = std::min(chunks_.size(), kMaxChunksPerWrite);
  batch_.clear();
  batch_.reserve(count * 2);
  for (std::size_t i = 0; i < count; ++i) {
    batch_.emplace_back(boost::asio::buffer(chunks_[i].head));
    const codec::SharedBytes& payload = chunks_[i].payload;
    if (!payload.empty()) batch_.emplace_back(payload.data(), payload.size());
  }
  writing_chunks_ = count;
  return batch_;
}

void WriteQueue::FinishBatch(std::size_t n) {
  queued_bytes_ -= std::min(n, queued_bytes_);
  for (std::size_t i = 0; i < writing_chunks_; ++i) chunks_.pop_front();
  writing_chunks_ = 0;
}

void WriteQueue::Clear() {
  chunks_.clear();
  writing_chunks_ = 0;
  queued_bytes_ = 0;
}

}  // namespace meshmq::transport
