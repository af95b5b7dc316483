// Keeps the kernel's receive order across the shards of one TCP listener, for the case users
// notice: a SUBSCRIBE sent on one connection, then at once a PUBLISH on another connection that
// a different shard serves. A single-threaded broker (Mosquitto) reads its sockets in the order
// their bytes arrived, so the subscriber gets the message. With one thread per shard, the
// subscriber's shard may still be waking up (the scheduler often queues a woken thread behind
// the very process that woke it) while the publisher's shard, running on the other core, reads
// and routes the PUBLISH first: the message is lost for the new subscriber although its
// SUBSCRIBE reached the host first (the Paho interoperability suite's test_subscribe_options
// and a raw-socket loop show it; see docs/testing.md).
//
// The rule: after a shard fetched its ready events and before it handles them, every other
// shard of the listener that is idle (not inside a turn) but has ready events of its own, i.e.
// bytes that reached the host before ours, is given the time to handle them first. A SUBSCRIBE
// among them reaches this shard's route inbox before it routes (route_inbox.h). The wait is
// bounded (kMaxWait) and given up for a shard that does not move (stopping, or stuck in a long
// task) until its turn count changes, so a slow shard can delay another by at most one bound.
//
// A "turn" here is the reading part of a reactor poll: fetch the ready events, read and handle
// the bytes. The writes of the turn (RunTail) come after EndTurn on purpose: the CONNACK or
// SUBACK written there wakes the client, which often sends its next packet before the shard's
// thread runs again, and those bytes belong to the next turn, which must be waited for.
//
// Only after this shard was idle for kIdleGap: back-to-back turns mean load, where the rule
// would not hold anyway (below) and a writing peer always has bytes waiting, so the shards would
// take turns instead of running side by side.
//
// Cost: per turn, two clock reads; after an idle gap, one load per other shard; a poll(2) over the descriptors of the idle ones
// (none under load, when shards are inside their turns); a wait only when an idle shard has bytes
// waiting, i.e. when it is about to wake anyway. A shard in the middle of a turn is not waited
// for: waiting for busy shards would make the shards take turns. Its window is the few
// microseconds between reading a SUBSCRIBE and queueing its route, unless the scheduler
// preempts it right there: under CPU contention the order is likely, not guaranteed (on a
// loaded 2-core machine a raw-socket loop still lost ~5 % of such messages, with or without
// this; on an idle broker it closes the window that the Paho suite hits).
//
// TLS and WebSocket connections (Asio sockets, not in these epoll sets) are not covered.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <vector>

namespace meshmq::transport {

class ReceiveOrder {
 public:
  // Longest a shard waits for an idle shard with ready bytes to handle them.
  static constexpr std::chrono::microseconds kMaxWait{5000};
  // A shard idle for less than this before its turn is busy: it waits for nobody.
  static constexpr std::chrono::microseconds kIdleGap{50};

  // One shard's reactor. Odd `turns` = inside a turn (between BeginTurn and EndTurn).
  class Member {
   public:
    uint64_t turns() const { return turns_.load(std::memory_order_acquire); }

   private:
    friend class ReceiveOrder;
    std::atomic<uint64_t> turns_{0};
    std::chrono::steady_clock::time_point last_end_{};
    bool after_idle_gap_ = false;  // this turn began kIdleGap or more after the last one ended
    int epoll_fd_ = -1;
    std::size_t index_ = 0;
    // Per other member, the turn count at which a wait timed out: not waited for again until
    // it moves. Touched only by this member's own thread.
    std::vector<uint64_t> gave_up_at_;
  };

  // Counts of what WaitForIdlePeers did (tests, and a debug log).
  struct Stats {
    uint64_t waits = 0;     // an idle shard with ready bytes was waited for
    uint64_t timeouts = 0;  // ... and did not take its turn within kMaxWait
  };

  ReceiveOrder() = default;
  ReceiveOrder(const ReceiveOrder&) = delete;
  ReceiveOrder& operator=(const ReceiveOrder&) = delete;

  // Before any shard runs: one member per shard's epoll set (each on its own thread).
  Member& Join(int epoll_fd);

  static void BeginTurn(Member& m) {
    m.turns_.fetch_add(1, std::memory_order_acq_rel);
    m.after_idle_gap_ = std::chrono::steady_clock::now() - m.last_end_ >= kIdleGap;
  }
  static void EndTurn(Member& m) {
    m.last_end_ = std::chrono::steady_clock::now();
    m.turns_.fetch_add(1, std::memory_order_release);
  }

  // Called by `self`'s thread inside its turn, after it fetched its ready events and before it
  // handles them. Returns what it did.
  Stats WaitForIdlePeers(Member& self);

 private:
  std::deque<Member> members_;  // stable addresses; fixed once the shards run
};

}  // namespace meshmq::transport
