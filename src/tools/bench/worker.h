// One benchmark worker: an io_context run by exactly one thread, plus what its clients share.
//
// Everything except the atomics is touched only by the worker's own thread while it runs; the
// main thread reads the rest after Join().
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "tools/bench/latency_histogram.h"

namespace meshmq::bench {

// Counters the main thread samples for the live progress line and the phase barriers.
struct Counters {
  std::atomic<uint64_t> sent{0};        // PUBLISH packets handed to the socket
  std::atomic<uint64_t> completed{0};   // QoS 1/2 flows finished (PUBACK / PUBCOMP)
  std::atomic<uint64_t> received{0};    // PUBLISH packets that reached subscribers
  std::atomic<int64_t> last_receive_ns{0};
  std::atomic<int> ready{0};            // clients connected (and subscribed)
  std::atomic<int> failed{0};           // clients that failed or were closed by the broker
  std::atomic<int> publishers_done{0};  // publishers that sent --count messages
};

class BenchClient;

// End-to-end flow control of one publisher (closed loop): subscribers count what they received
// from it, and the publisher keeps at most --inflight messages not yet delivered to every
// expected subscriber. Without this an unbounded publisher outruns the broker's deliveries and
// the run measures queue growth and drops instead of sustainable throughput.
struct PublisherFlow {
  std::atomic<uint64_t> delivered{0};  // unique deliveries, summed over subscribers
  std::atomic<bool> blocked{false};    // the publisher waits for deliveries to wake it
  BenchClient* publisher = nullptr;
};

class Worker {
 public:
  explicit Worker(Counters& counters) : counters_(counters) { scratch_.resize(256 * 1024); }
  void Start() { thread_ = std::thread([this] { io_.run(); }); }
  void Join() {
    work_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  boost::asio::io_context& io() { return io_; }
  Counters& counters() { return counters_; }
  LatencyHistogram& histogram() { return histogram_; }
  // Read buffer shared by this worker's clients: a client reads only when its socket is ready,
  // so 20,000 idle connections do not each hold a buffer.
  std::vector<char>& scratch() { return scratch_; }

 private:
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
  std::thread thread_;
  Counters& counters_;
  LatencyHistogram histogram_;
  std::vector<char> scratch_;
};

}  // namespace meshmq::bench
