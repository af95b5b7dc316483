// When the kernel received the bytes this shard's thread is handling now: the transport stamps
// each read (SO_TIMESTAMPNS) and sets it around the handling of those bytes. It orders a
// SUBSCRIBE on one shard against PUBLISHes read on another (late_routes.cc): the host's receive
// order is the order a single-threaded broker would have handled them in.
#pragma once

#include <cstdint>
#include <ctime>

namespace meshmq::broker {

class ReceiveTime {
 public:
  // Nanoseconds since the Unix epoch (CLOCK_REALTIME, the kernel's clock for socket stamps).
  static int64_t Now() {
    timespec ts;
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  }
  // The kernel's stamp of the bytes being handled, or now when there is none (TLS and WebSocket
  // reads, timers, tasks from other shards): later than the truth, never earlier.
  static int64_t Current() { return current_ != 0 ? current_ : Now(); }

  // Sets the stamp for the current scope (the handling of one read), then clears it.
  class Scope {
   public:
    explicit Scope(int64_t received_ns) { current_ = received_ns; }
    ~Scope() { current_ = 0; }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
  };

 private:
  static inline thread_local int64_t current_ = 0;
};

}  // namespace meshmq::broker
