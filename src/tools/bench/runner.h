// Runs one scenario: starts the workers, connects clients in phases (subscribers before
// publishers), drives the publish phase, drains, and reports.
//
// Main thread only; it reaches clients by posting to their worker's io_context.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "tools/bench/bench_client.h"
#include "tools/bench/options.h"
#include "tools/bench/worker.h"

namespace meshmq::bench {

class Runner {
 public:
  explicit Runner(const Options& options);
  ~Runner();

  // Returns the process exit code: 0 ok, 1 loss with --expect-no-loss, 2 setup failure.
  int Run();

 private:
  int RunConn();
  int RunPubSub();
  using Endpoints = std::vector<boost::asio::ip::tcp::endpoint>;
  bool Resolve(const std::vector<Target>& targets, Endpoints& out);
  void CreatePubSubClients(const Endpoints& pub_eps, const Endpoints& sub_eps);
  Worker& NextWorker();
  // Starts `clients` at most --connect-window at a time; false if any failed or timed out.
  bool ConnectAll(const std::vector<std::unique_ptr<BenchClient>>& clients, const char* what);
  // Runs `fn` on every client on its own worker and waits until all have run it.
  void OnEachWorker(const std::vector<std::unique_ptr<BenchClient>>& clients,
                    void (BenchClient::*fn)());
  void Progress(double t, uint64_t& last_sent, uint64_t& last_received);
  void StopWorkers();

  const Options& options_;
  std::string topic_base_;
  Counters counters_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<PublisherFlow> flows_;  // indexed by publisher id; outlives the clients' use
  std::vector<std::unique_ptr<BenchClient>> pubs_;
  std::vector<std::unique_ptr<BenchClient>> subs_;
  std::vector<std::unique_ptr<BenchClient>> conns_;
  bool stopped_ = false;
  size_t next_worker_ = 0;
};

}  // namespace meshmq::bench
