#include "bridge/bridge_manager.h"

#include <future>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace meshmq::bridge {

BridgeManager::BridgeManager(broker::Broker& broker, std::vector<BridgeConfig> configs,
                             std::function<bool()> should_run, std::chrono::milliseconds poll)
    : broker_(broker),
      configs_(std::move(configs)),
      should_run_(std::move(should_run)),
      poll_(poll),
      guard_(io_.get_executor()),
      timer_(io_) {
  for (size_t i = 0; i < configs_.size(); ++i) stats_.push_back(std::make_shared<BridgeStats>());
}

BridgeManager::~BridgeManager() { Stop(); }

absl::Status BridgeManager::Start() {
  for (size_t i = 0; i < configs_.size(); ++i) {
    Bridge probe(io_, broker_, configs_[i], stats_[i]);  // fails early on bad TLS files
    if (absl::Status s = probe.Init(); !s.ok()) return s;
  }
  thread_ = std::thread([this] { io_.run(); });
  boost::asio::post(io_, [this] { Evaluate(); });
  return absl::OkStatus();
}

void BridgeManager::Evaluate() {
  if (stopping_) return;
  const bool run = !should_run_ || should_run_();
  if (run && running_.empty()) {
    spdlog::info("bridges: this node runs {} bridge(s)", configs_.size());
    StartAll();
  } else if (!run && !running_.empty()) {
    spdlog::info("bridges: another node runs the bridges now; stopping them here");
    StopAll([] {});
  }
  timer_.expires_after(poll_);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) Evaluate();
  });
}

void BridgeManager::StartAll() {
  for (size_t i = 0; i < configs_.size(); ++i) {
    auto bridge = std::make_shared<Bridge>(io_, broker_, configs_[i], stats_[i]);
    if (absl::Status s = bridge->Init(); !s.ok()) {
      spdlog::error("{}", std::string(s.message()));
      continue;
    }
    bridge->Start();
    running_.push_back(std::move(bridge));
  }
}

void BridgeManager::StopAll(std::function<void()> done) {
  auto remaining = std::make_shared<size_t>(running_.size());
  if (running_.empty()) {
    done();
    return;
  }
  auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
  for (auto& bridge : running_) {
    // The local side ends on its shard; the last one back (on the bridges' thread) reports.
    bridge->Stop([this, remaining, shared_done] {
      boost::asio::post(io_, [remaining, shared_done] {
        if (--*remaining == 0) (*shared_done)();
      });
    });
  }
  running_.clear();
}

void BridgeManager::Stop() {
  if (!thread_.joinable()) return;
  auto stopped = std::make_shared<std::promise<void>>();
  std::future<void> future = stopped->get_future();
  boost::asio::post(io_, [this, stopped] {
    stopping_ = true;
    timer_.cancel();
    StopAll([stopped] { stopped->set_value(); });
  });
  // Bounded: a shard that no longer runs would never answer.
  if (future.wait_for(std::chrono::seconds(3)) != std::future_status::ready) {
    spdlog::warn("bridges: local sessions did not end within 3 s");
  }
  guard_.reset();
  io_.stop();
  thread_.join();
}

std::vector<BridgeManager::Entry> BridgeManager::Snapshot() const {
  std::vector<Entry> out;
  for (size_t i = 0; i < configs_.size(); ++i) out.push_back({configs_[i].name, stats_[i]});
  return out;
}

}  // namespace meshmq::bridge
