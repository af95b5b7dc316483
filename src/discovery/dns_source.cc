// DNS discovery (--discovery dns): re-resolves a name every refresh period on its own thread.
// Failure policy (docs/discovery.md): an authoritative empty answer empties the set; a lookup
// that got no answer keeps the last known set, because a DNS blip must not drop peers.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "discovery/dns_resolver.h"
#include "discovery/peer_set.h"
#include "discovery/peer_source.h"
#include "spdlog/spdlog.h"

namespace meshmq::discovery {
namespace {

constexpr int kMinRefreshMs = 100;  // a zero or negative period would spin on the DNS server

// Start/Stop/destructor: the owning thread. Run(), the resolver and on_change: the source's
// thread. Shared between them: the stop flag (atomic, plus mu_/cv_ to cut the period short)
// and the counters.
class DnsSource final : public PeerSource {
 public:
  explicit DnsSource(DnsOptions options) : options_(std::move(options)) {
    options_.refresh_ms = std::max(options_.refresh_ms, kMinRefreshMs);
  }
  ~DnsSource() override { Stop(); }

  void Start(std::function<void(const PeerSet&)> on_change) override {
    if (started_) return;  // a source runs once; Start after Stop is not supported
    started_ = true;
    thread_ = std::thread([this, cb = std::move(on_change)] { Run(cb); });
  }

  void Stop() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    stop_flag_.store(true);  // also aborts a lookup in flight
    cv_.notify_all();
    // From on_change itself the thread cannot join itself; it exits when on_change returns.
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  }

  uint64_t lookups() const override { return lookups_.load(); }
  uint64_t lookup_errors() const override { return lookup_errors_.load(); }

 private:
  enum class State { kNone, kPeers, kEmpty, kFailed };

  void Run(const std::function<void(const PeerSet&)>& on_change) {
    while (!stop_flag_.load()) {
      LookupAndReport(on_change);
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(options_.refresh_ms),
                   [this] { return stopping_; });
    }
  }

  void LookupAndReport(const std::function<void(const PeerSet&)>& on_change) {
    absl::StatusOr<PeerSet> result = ResolveOnce(options_, &stop_flag_);
    if (absl::IsCancelled(result.status())) return;
    lookups_.fetch_add(1);
    PeerSet next = last_;  // on failure: keep the last known set
    if (result.ok()) {
      next = *std::move(result);
      EnterState(State::kPeers, "");
    } else if (absl::IsNotFound(result.status())) {
      next.clear();  // authoritative: no peers exist
      EnterState(State::kEmpty, result.status().ToString());
    } else {
      lookup_errors_.fetch_add(1);
      EnterState(State::kFailed, result.status().ToString());
    }
    if (reported_ && next == last_) return;
    reported_ = true;
    last_ = std::move(next);
    spdlog::info("discovery: dns {} -> {} peer(s): {}", options_.name, last_.size(),
                 FormatPeers(last_));
    if (on_change) on_change(last_);
  }

  // Logs on a change of state only, so a DNS outage is one warning, not one per period.
  void EnterState(State next, const std::string& why) {
    if (next == state_) return;
    const State previous = state_;
    state_ = next;
    switch (next) {
      case State::kFailed:
        spdlog::warn("discovery: dns lookup of {} failed, keeping {} known peer(s): {}",
                     options_.name, last_.size(), why);
        break;
      case State::kEmpty:
        spdlog::warn("discovery: dns {} has no records, peer set is empty: {}", options_.name,
                     why);
        break;
      case State::kPeers:
        if (previous != State::kNone) spdlog::info("discovery: dns {} resolves again", options_.name);
        break;
      case State::kNone:
        break;
    }
  }

  DnsOptions options_;
  bool started_ = false;
  std::thread thread_;
  std::atomic<bool> stop_flag_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<uint64_t> lookups_{0};
  std::atomic<uint64_t> lookup_errors_{0};
  // Touched only by the source's thread.
  State state_ = State::kNone;
  bool reported_ = false;
  PeerSet last_;
};

}  // namespace

std::unique_ptr<PeerSource> MakeDnsSource(DnsOptions options) {
  return std::make_unique<DnsSource>(std::move(options));
}

}  // namespace meshmq::discovery
