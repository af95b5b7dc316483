// All configured bridges of this node, on one io_context thread, and the rule that decides
// whether this node runs them (in a cluster each bridge runs on exactly one node).
//
// Placement: `should_run` is polled every `poll` interval; the app wires it to "no live peer
// has a lower node id than mine" (docs/extending.md, "Bridges in a cluster"). When the answer
// flips, every bridge is stopped or started here; counters survive the moves.
//
// Threads: Start/Stop and Snapshot from the control thread; everything else on the bridges'
// thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "absl/status/status.h"
#include "bridge/bridge.h"
#include "bridge/bridge_config.h"
#include "broker/broker.h"

namespace meshmq::bridge {

class BridgeManager {
 public:
  BridgeManager(broker::Broker& broker, std::vector<BridgeConfig> configs,
                std::function<bool()> should_run,
                std::chrono::milliseconds poll = std::chrono::milliseconds(1000));
  ~BridgeManager();

  // Checks the TLS files of every bridge, then starts the thread (and the bridges when
  // should_run says so). Call after the broker started.
  absl::Status Start();
  // Stops every bridge (DISCONNECT to the remote, local session ended) and the thread. Call
  // before the broker stops.
  void Stop();

  struct Entry {
    std::string name;
    std::shared_ptr<const BridgeStats> stats;
  };
  std::vector<Entry> Snapshot() const;  // immutable list; the counters are atomics

 private:
  void Evaluate();  // bridges' thread
  void StartAll();
  void StopAll(std::function<void()> done);

  broker::Broker& broker_;
  const std::vector<BridgeConfig> configs_;
  std::function<bool()> should_run_;
  const std::chrono::milliseconds poll_;
  std::vector<std::shared_ptr<BridgeStats>> stats_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  boost::asio::steady_timer timer_;
  // Bridges' thread only.
  std::vector<std::shared_ptr<Bridge>> running_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace meshmq::bridge
