// One benchmark MQTT connection: connects, optionally subscribes, then publishes (publisher) or
// receives and checks sequence numbers and latency (subscriber).
//
// Lives on one Worker: every method except the constructor runs on that worker's thread (the
// main thread reaches it with boost::asio::post). Handlers capture `this`; the owner destroys
// clients only after the worker thread has been joined.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "codec/decoder.h"
#include "codec/packets.h"
#include "tools/bench/options.h"
#include "tools/bench/stream_tracker.h"
#include "tools/bench/worker.h"

namespace meshmq::bench {

inline int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct ClientSpec {
  uint32_t index = 0;           // publisher id (publishers) or subscriber index
  boost::asio::ip::tcp::endpoint endpoint;
  std::string client_id;
  std::string subscribe_filter;  // empty: no SUBSCRIBE
  std::string publish_topic;     // empty: never publishes
  // Closed-loop publishing (null = open loop): every publisher's flow, indexed by publisher id,
  // and how many deliveries each message should produce.
  std::vector<PublisherFlow>* flows = nullptr;
  uint64_t receivers = 1;
};

class BenchClient {
 public:
  BenchClient(Worker& worker, const Options& options, ClientSpec spec);
  BenchClient(const BenchClient&) = delete;
  BenchClient& operator=(const BenchClient&) = delete;

  // Connects; counters().ready is incremented once CONNACK (and SUBACK) arrived, failed on error.
  void Start();
  void StartPublishing();
  void StopPublishing();
  // Closes the socket with a TCP reset: no DISCONNECT, no TIME_WAIT left behind.
  void Abort();
  // Runs on this publisher's worker when a subscriber saw it blocked and delivered more.
  void Wake();
  // Arms a timer that aborts this client after `ms` (the --kill-subscriber-after test aid).
  void AbortAfter(int ms);

  Worker& worker() { return worker_; }
  uint64_t sent() const { return seq_; }
  const StreamTracker& tracker() const { return tracker_; }
  bool failed() const { return failed_; }

 private:
  void OnConnected(const boost::system::error_code& ec);
  void WaitReadable();
  void OnReadable();
  void Handle(codec::Packet& packet);
  void HandleConnack(const codec::Connack& connack);
  void HandlePublish(const codec::Publish& publish);
  void OnFlowComplete();
  void Send(const codec::Packet& packet);
  void Flush();
  void Pump();
  bool CanPublish();
  bool EndToEndFull();
  void NoteDelivery(uint32_t publisher);
  void WakePublishers();
  void AppendPublish();
  void ArmPacer();
  void Fail();
  void FlushCounters();

  Worker& worker_;
  const Options& options_;
  ClientSpec spec_;
  codec::ProtocolVersion version_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  codec::Decoder decoder_{codec::DecodeRole::kClient};
  std::string out_;      // encoded bytes waiting for the next write
  std::string writing_;  // bytes of the write in progress
  bool write_busy_ = false;
  bool failed_ = false;
  bool closed_ = false;
  bool subscribed_ = false;

  // Publisher state.
  codec::Publish publish_;   // topic, QoS and payload size; packet id set per message
  std::string filler_;       // payload bytes after the 16-byte prefix
  bool publishing_ = false;
  uint64_t seq_ = 0;         // messages sent so far (= next sequence number)
  int window_ = 0;           // min(--inflight, broker's Receive Maximum)
  int inflight_ = 0;         // QoS 1/2: unacked; QoS 0: unwritten (in out_ or writing_)
  int out_messages_ = 0;     // QoS 0: messages in out_
  int writing_messages_ = 0; // QoS 0: messages in writing_
  int64_t start_ns_ = 0;

  StreamTracker tracker_;  // subscriber state
  // Counts batched per read or pump and then added to the shared atomics, so the hot path does
  // not bounce a cache line between workers for every message.
  uint64_t pending_sent_ = 0;
  uint64_t pending_received_ = 0;
  uint64_t pending_completed_ = 0;
  // Publishers this subscriber delivered for since the last wake-up pass (usually one).
  std::vector<uint32_t> touched_;
};

}  // namespace meshmq::bench
