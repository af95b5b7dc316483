// The static peer list (--discovery static --peers ...): reported once, never re-resolved.
#include <atomic>
#include <thread>

#include "discovery/peer_set.h"
#include "discovery/peer_source.h"

namespace meshmq::discovery {
namespace {

// Reports from a short-lived thread of its own rather than inside Start(), so callers get the
// same threading contract as the DNS source (on_change never runs on the caller's stack, where
// the caller may hold the lock that on_change takes).
// Start/Stop/destructor: one owning thread. on_change: the source's thread.
class StaticSource final : public PeerSource {
 public:
  explicit StaticSource(PeerSet peers) : peers_(std::move(peers)) { NormalizePeers(peers_); }
  ~StaticSource() override { Stop(); }

  void Start(std::function<void(const PeerSet&)> on_change) override {
    if (thread_.joinable() || started_) return;
    started_ = true;
    thread_ = std::thread([this, cb = std::move(on_change)] {
      lookups_.store(1);
      if (cb) cb(peers_);
    });
  }

  void Stop() override {
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  }

  uint64_t lookups() const override { return lookups_.load(); }
  uint64_t lookup_errors() const override { return 0; }

 private:
  PeerSet peers_;
  bool started_ = false;
  std::atomic<uint64_t> lookups_{0};
  std::thread thread_;
};

}  // namespace

std::unique_ptr<PeerSource> MakeStaticSource(PeerSet peers) {
  return std::make_unique<StaticSource>(std::move(peers));
}

}  // namespace meshmq::discovery
