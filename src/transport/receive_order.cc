#include "transport/receive_order.h"

#include <poll.h>
#include <sched.h>

#include <utility>

namespace meshmq::transport {

ReceiveOrder::Member& ReceiveOrder::Join(int epoll_fd) {
  Member& m = members_.emplace_back();
  m.epoll_fd_ = epoll_fd;
  m.index_ = members_.size() - 1;
  for (Member& each : members_) each.gave_up_at_.assign(members_.size(), ~uint64_t{0});
  return m;
}

ReceiveOrder::Stats ReceiveOrder::WaitForIdlePeers(Member& self) {
  Stats stats;
  if (members_.size() < 2 || !self.after_idle_gap_) return stats;
  // Scratch of this shard's thread, reused from turn to turn.
  thread_local std::vector<pollfd> fds;
  thread_local std::vector<std::pair<Member*, uint64_t>> idle;
  fds.clear();
  idle.clear();
  for (Member& m : members_) {
    if (&m == &self || m.epoll_fd_ < 0) continue;
    uint64_t turns = m.turns();
    if (turns & 1) continue;                            // inside a turn: not waited for
    if (self.gave_up_at_[m.index_] == turns) continue;  // has not moved since a wait timed out
    fds.push_back(pollfd{m.epoll_fd_, POLLIN, 0});
    idle.emplace_back(&m, turns);
  }
  if (fds.empty()) return stats;
  // An epoll descriptor polls readable while its ready list holds events nobody fetched yet;
  // polling it does not take them.
  if (::poll(fds.data(), fds.size(), 0) <= 0) return stats;
  const auto deadline = std::chrono::steady_clock::now() + kMaxWait;
  for (std::size_t i = 0; i < fds.size(); ++i) {
    if (!(fds[i].revents & POLLIN)) continue;
    auto [peer, turns] = idle[i];
    ++stats.waits;
    // Its next turn fetches those events and handles them before it ends (turns + 2). Yield
    // rather than spin: the peer may be queued on this very core.
    while (peer->turns() < turns + 2) {
      if (std::chrono::steady_clock::now() >= deadline) {
        self.gave_up_at_[peer->index_] = peer->turns();
        ++stats.timeouts;
        break;
      }
      ::sched_yield();
    }
  }
  return stats;
}

}  // namespace meshmq::transport
