// ReceiveOrder: a shard waits for an idle shard whose epoll set holds events nobody fetched yet
// (bytes that reached the host first), and for nothing else. Each member's epoll set here holds
// an eventfd that the test makes readable or not.
#include "transport/receive_order.h"

#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace meshmq::transport {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// An epoll set with one eventfd in it, edge-triggered like the reactor's sockets.
struct EpollSet {
  EpollSet() {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLET;
    ev.data.fd = event_fd;
    EXPECT_EQ(::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, event_fd, &ev), 0);
  }
  ~EpollSet() {
    ::close(event_fd);
    ::close(epoll_fd);
  }
  void MakeReady() {
    uint64_t one = 1;
    ASSERT_EQ(::write(event_fd, &one, sizeof one), static_cast<ssize_t>(sizeof one));
  }
  // What the shard's turn does: fetch the ready events.
  int Fetch() {
    epoll_event ev[4];
    return ::epoll_wait(epoll_fd, ev, 4, 0);
  }
  int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  int event_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
};

// One turn of `self` beginning after an idle gap, as on a quiet broker.
ReceiveOrder::Stats IdleTurn(ReceiveOrder& order, ReceiveOrder::Member& self) {
  std::this_thread::sleep_for(ReceiveOrder::kIdleGap * 2);
  ReceiveOrder::BeginTurn(self);
  ReceiveOrder::Stats stats = order.WaitForIdlePeers(self);
  ReceiveOrder::EndTurn(self);
  return stats;
}

TEST(ReceiveOrderTest, WaitsForAnIdleShardWithReadyBytesUntilItsTurnEnded) {
  EpollSet self_set, peer_set;
  ReceiveOrder order;
  ReceiveOrder::Member& self = order.Join(self_set.epoll_fd);
  ReceiveOrder::Member& peer = order.Join(peer_set.epoll_fd);
  peer_set.MakeReady();  // bytes reached the peer's shard, which has not woken yet

  std::atomic<bool> handled{false};
  std::thread peer_thread([&] {
    std::this_thread::sleep_for(milliseconds(2));  // a late wake-up
    ReceiveOrder::BeginTurn(peer);
    EXPECT_EQ(peer_set.Fetch(), 1);
    handled = true;  // e.g. the SUBSCRIBE queued its route in the other shard's inbox
    ReceiveOrder::EndTurn(peer);
  });
  ReceiveOrder::BeginTurn(self);
  ReceiveOrder::Stats stats = order.WaitForIdlePeers(self);
  EXPECT_TRUE(handled.load()) << "returned before the peer handled its bytes";
  ReceiveOrder::EndTurn(self);
  peer_thread.join();
  EXPECT_EQ(stats.waits, 1u);
  EXPECT_EQ(stats.timeouts, 0u);
}

TEST(ReceiveOrderTest, AnIdleShardWithNothingReadyAndABusyShardAreNotWaitedFor) {
  EpollSet self_set, idle_set, busy_set;
  ReceiveOrder order;
  ReceiveOrder::Member& self = order.Join(self_set.epoll_fd);
  order.Join(idle_set.epoll_fd);
  ReceiveOrder::Member& busy = order.Join(busy_set.epoll_fd);
  busy_set.MakeReady();
  ReceiveOrder::BeginTurn(busy);  // inside a turn: its window is too short to wait for

  auto start = steady_clock::now();
  ReceiveOrder::Stats stats = IdleTurn(order, self);
  EXPECT_EQ(stats.waits, 0u);
  EXPECT_LT(steady_clock::now() - start, ReceiveOrder::kMaxWait);

  // Once fetched, the events no longer count as waiting bytes.
  ReceiveOrder::EndTurn(busy);
  EXPECT_EQ(busy_set.Fetch(), 1);
  EXPECT_EQ(IdleTurn(order, self).waits, 0u);
}

TEST(ReceiveOrderTest, AShardThatDoesNotMoveIsWaitedForOnceUntilItsCountChanges) {
  EpollSet self_set, stuck_set;
  ReceiveOrder order;
  ReceiveOrder::Member& self = order.Join(self_set.epoll_fd);
  ReceiveOrder::Member& stuck = order.Join(stuck_set.epoll_fd);
  stuck_set.MakeReady();  // ready, but its thread never takes a turn (stopping, or stuck)

  auto start = steady_clock::now();
  ReceiveOrder::Stats first = IdleTurn(order, self);
  EXPECT_GE(steady_clock::now() - start, ReceiveOrder::kMaxWait);
  EXPECT_EQ(first.waits, 1u);
  EXPECT_EQ(first.timeouts, 1u);

  // Given up: the next turns do not pay the bound again.
  start = steady_clock::now();
  EXPECT_EQ(IdleTurn(order, self).waits, 0u);
  EXPECT_LT(steady_clock::now() - start, ReceiveOrder::kMaxWait);

  // It moved (a turn that left new bytes behind): waited for again.
  ReceiveOrder::BeginTurn(stuck);
  ReceiveOrder::EndTurn(stuck);
  std::thread late([&] {
    std::this_thread::sleep_for(milliseconds(1));
    ReceiveOrder::BeginTurn(stuck);
    stuck_set.Fetch();
    ReceiveOrder::EndTurn(stuck);
  });
  ReceiveOrder::Stats again = IdleTurn(order, self);
  late.join();
  EXPECT_EQ(again.waits, 1u);
  EXPECT_EQ(again.timeouts, 0u);
}

TEST(ReceiveOrderTest, AShardTakingTurnsBackToBackWaitsForNobody) {
  EpollSet self_set, peer_set;
  ReceiveOrder order;
  ReceiveOrder::Member& self = order.Join(self_set.epoll_fd);
  order.Join(peer_set.epoll_fd);
  peer_set.MakeReady();  // idle with bytes waiting: an idle shard would wait for it

  // Under load turns follow each other without a gap; waiting there would make shards alternate.
  ReceiveOrder::BeginTurn(self);
  ReceiveOrder::EndTurn(self);
  ReceiveOrder::BeginTurn(self);
  EXPECT_EQ(order.WaitForIdlePeers(self).waits, 0u);
  ReceiveOrder::EndTurn(self);

  // The same turn after a pause does wait (and gives up: nobody takes the peer's turn here).
  EXPECT_EQ(IdleTurn(order, self).waits, 1u);
}

}  // namespace
}  // namespace meshmq::transport
