// One timer per shard for every client's connect and keep-alive deadline, instead of one Asio
// timer per connection: an idle connection then costs a 16-byte heap entry rather than a timer
// object (~120 bytes) plus a pending wait operation (~100 bytes) and their malloc headers.
//
// Entries are (deadline, client id); the owner decides on expiry whether an entry is still
// current (ids, not pointers: a client that is gone is simply not found). Lazy: an entry made
// stale by a later Watch for the same id is dropped when it comes up, so Watch never searches.
//
// Touched only by the owning shard's thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace meshmq::broker {

class DeadlineQueue {
 public:
  using Clock = std::chrono::steady_clock;
  // Called for each entry whose deadline has come: fire(id, deadline).
  using Fire = std::function<void(uint64_t, Clock::time_point)>;

  DeadlineQueue(boost::asio::io_context& io, Fire fire) : timer_(io), fire_(std::move(fire)) {}

  // Calls fire(id, deadline) once `deadline` has passed (not before; the thread's next turn after).
  void Watch(uint64_t id, Clock::time_point deadline) {
    if (stopped_) return;
    heap_.push_back(Entry{deadline, id});
    std::push_heap(heap_.begin(), heap_.end(), Later);
    if (deadline < armed_at_) Arm(deadline);
  }

  // Forgets every entry and lets the io_context run out of work (broker stop).
  void Stop() {
    stopped_ = true;
    heap_.clear();
    heap_.shrink_to_fit();
    timer_.cancel();
    armed_at_ = Clock::time_point::max();
  }

  std::size_t size() const { return heap_.size(); }

 private:
  struct Entry {
    Clock::time_point deadline;
    uint64_t id;
  };
  static bool Later(const Entry& a, const Entry& b) { return a.deadline > b.deadline; }

  void Arm(Clock::time_point at) {
    armed_at_ = at;
    timer_.expires_at(at);  // cancels a later wait, whose handler then does nothing
    timer_.async_wait([this, at](const boost::system::error_code& ec) {
      if (!ec && at == armed_at_) Expire();
    });
  }

  void Expire() {
    armed_at_ = Clock::time_point::max();
    auto now = Clock::now();
    while (!heap_.empty() && heap_.front().deadline <= now && !stopped_) {
      std::pop_heap(heap_.begin(), heap_.end(), Later);
      Entry e = heap_.back();
      heap_.pop_back();
      fire_(e.id, e.deadline);  // may Watch again
    }
    // A burst of connections leaves a large vector behind; give it back once mostly empty.
    if (heap_.capacity() > 1024 && heap_.size() < heap_.capacity() / 4) heap_.shrink_to_fit();
    if (!heap_.empty() && !stopped_ && heap_.front().deadline < armed_at_) {
      Arm(heap_.front().deadline);
    }
  }

  boost::asio::steady_timer timer_;
  Fire fire_;
  std::vector<Entry> heap_;  // min-heap on deadline
  Clock::time_point armed_at_ = Clock::time_point::max();  // the timer's expiry; max = idle
  bool stopped_ = false;
};

}  // namespace meshmq::broker
