// Route changes that other shards of this node announce to one shard (a filter gained its first
// or lost its last subscriber there).
//
// Why not a posted task per change: a posted task runs when the receiving shard's io_context gets
// to it, which under load is after that shard already routed the publishes it has in hand. A
// client that subscribes on shard B and then (on another connection, e.g. after SUBACK) publishes
// through shard A would see its message routed without B's new subscriber. Instead the announcing
// shard pushes the change here before it answers SUBACK, and shard A looks at one atomic flag
// before it routes each publish and applies what waits first. The mutex is this inbox's own and is
// taken on the publish path only when a change is actually waiting, so publishing takes no global
// lock. The announcing shard still posts a task (only when the inbox was empty) so that an idle
// shard applies changes without waiting for a publish.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace meshmq::broker {

class RouteInbox {
 public:
  struct Change {
    int from_shard;
    std::string filter;  // as subscribed: "$share/group/filter" or a plain filter
    bool add;
    // An add: when the host received the SUBSCRIBE (receive_time.h). Publishes the owner routed
    // without this route but received after it are delivered late (late_routes.cc). 0 = none.
    int64_t subscribed_ns = 0;
  };

  // Any thread. True when the inbox was empty: the caller then posts a drain task to the owner.
  bool Push(Change change) {
    std::lock_guard lock(mu_);
    changes_.push_back(std::move(change));
    bool was_empty = changes_.size() == 1;
    ready_.store(true, std::memory_order_release);
    return was_empty;
  }

  // Owner's thread: one load, no lock, on the publish path.
  bool HasChanges() const { return ready_.load(std::memory_order_acquire); }

  // Owner's thread: everything pushed so far, in push order (per announcing shard that is the
  // order of its subscribes and unsubscribes, which is all that matters: each shard's entry in a
  // route is counted separately).
  std::vector<Change> Take() {
    std::vector<Change> out;
    std::lock_guard lock(mu_);
    out.swap(changes_);
    ready_.store(false, std::memory_order_relaxed);
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<Change> changes_;
  std::atomic<bool> ready_{false};
};

}  // namespace meshmq::broker
