#include "cluster/link.h"

#include <chrono>
#include <utility>

namespace meshmq::cluster {

Link::Link(WriteFn write, PullFn pull) : write_(std::move(write)), pull_(std::move(pull)) {}

Link::~Link() { Close(); }

void Link::Start() { thread_ = std::thread([this] { Run(); }); }

void Link::Send(v1::Frame frame) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closing_ || broken_) return;
  queue_.push_back(std::move(frame));
  cv_.notify_one();
}

void Link::Wake() {
  std::lock_guard<std::mutex> lock(mu_);
  woken_ = true;
  cv_.notify_one();
}

void Link::Flush(int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
               [this] { return (queue_.empty() && !writing_) || broken_ || closing_; });
}

void Link::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

bool Link::broken() const {
  std::lock_guard<std::mutex> lock(mu_);
  return broken_;
}

void Link::Run() {
  std::vector<v1::Frame> queued;
  std::vector<const v1::Frame*> frames;
  FrameArena arena;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      writing_ = false;
      cv_.notify_all();  // Flush() waiters
      cv_.wait(lock, [this] { return closing_ || !queue_.empty() || woken_; });
      if (closing_) return;
      queued.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
      queue_.clear();
      woken_ = false;
      writing_ = true;
    }
    // Control frames first: a snapshot or delta queued before a forward batch stays before it.
    for (const v1::Frame& frame : queued) frames.push_back(&frame);
    pull_(&arena, &frames);
    for (const v1::Frame* frame : frames) {
      if (!write_(*frame)) {
        std::lock_guard<std::mutex> lock(mu_);
        broken_ = true;
        writing_ = false;
        cv_.notify_all();
        // Keep waiting for Close(): the stream owner notices the break from its Read loop.
        break;
      }
    }
    frames.clear();
    queued.clear();
    arena.Reset();
    std::unique_lock<std::mutex> lock(mu_);
    if (broken_) {
      cv_.wait(lock, [this] { return closing_; });
      return;
    }
  }
}

}  // namespace meshmq::cluster
