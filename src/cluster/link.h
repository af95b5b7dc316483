// One direction of a Link stream: a FIFO of frames written by a dedicated writer thread, so
// cluster state changes and broker threads only enqueue and never wait on the network.
//
// The writer also asks `pull` for frames generated on demand (forward batches from the peer's
// buffer, coalesced acks) each time it wakes; Wake() says such work may be available. `write`
// performs the blocking gRPC Write and returns false once the stream is broken. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "cluster.pb.h"
#include "cluster/frame_arena.h"

namespace meshmq::cluster {

class Link {
 public:
  using WriteFn = std::function<bool(const v1::Frame&)>;
  // Appends frames made on `arena`; they stay valid until they are written.
  using PullFn = std::function<void(FrameArena* arena, std::vector<const v1::Frame*>*)>;

  Link(WriteFn write, PullFn pull);
  ~Link();  // Close()
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  void Start();
  void Send(v1::Frame frame);
  void Wake();
  // Waits up to timeout_ms for everything enqueued so far to be written (graceful leave).
  void Flush(int timeout_ms);
  // Stops the writer thread (after the stream was cancelled, a blocked Write returns) and joins.
  void Close();
  bool broken() const;

 private:
  void Run();

  WriteFn write_;
  PullFn pull_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<v1::Frame> queue_;  // guarded by mu_
  bool woken_ = false;           // guarded by mu_
  bool closing_ = false;         // guarded by mu_
  bool broken_ = false;          // guarded by mu_
  bool writing_ = false;         // guarded by mu_
  std::thread thread_;
};

}  // namespace meshmq::cluster
