#include "tools/bench/runner.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include <boost/asio/post.hpp>

#include "absl/strings/str_cat.h"
#include "tools/bench/accounting.h"
#include "tools/bench/report.h"

namespace meshmq::bench {
namespace asio = boost::asio;
using Clients = std::vector<std::unique_ptr<BenchClient>>;

namespace {

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace

Runner::Runner(const Options& options) : options_(options) {
  // Unique per run, so a retained message or a lingering session of an earlier run never matches.
  topic_base_ = absl::StrCat("bench/", getpid(), "-", NowNs() % 1000000, "/");
  for (int i = 0; i < options.threads; ++i) {
    workers_.push_back(std::make_unique<Worker>(counters_));
    workers_.back()->Start();
  }
}

Runner::~Runner() { StopWorkers(); }

void Runner::StopWorkers() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& w : workers_) w->Join();
  // The worker threads are gone, so the main thread may touch the clients now.
  for (Clients* list : {&pubs_, &subs_, &conns_}) {
    for (auto& c : *list) c->Abort();
  }
}

Worker& Runner::NextWorker() { return *workers_[next_worker_++ % workers_.size()]; }

bool Runner::Resolve(const std::vector<Target>& targets, Endpoints& out) {
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  for (const Target& t : targets) {
    boost::system::error_code ec;
    auto results = resolver.resolve(t.host, std::to_string(t.port), ec);
    if (ec || results.empty()) {
      std::fprintf(stderr, "meshmq-bench: cannot resolve %s: %s\n", t.host.c_str(),
                   ec.message().c_str());
      return false;
    }
    out.push_back(results.begin()->endpoint());
  }
  return true;
}

int Runner::Run() {
  return options_.scenario == Scenario::kConn ? RunConn() : RunPubSub();
}

bool Runner::ConnectAll(const Clients& clients, const char* what) {
  const int base_ready = counters_.ready.load();
  const int base_failed = counters_.failed.load();
  const size_t n = clients.size();
  const int64_t deadline = NowNs() + static_cast<int64_t>((30 + n / 200) * 1e9);
  int64_t next_progress = NowNs() + 1'000'000'000;
  size_t started = 0;
  for (;;) {
    size_t ready = static_cast<size_t>(counters_.ready.load() - base_ready);
    size_t failed = static_cast<size_t>(counters_.failed.load() - base_failed);
    while (started < n && started - (ready + failed) < static_cast<size_t>(options_.connect_window)) {
      BenchClient* c = clients[started++].get();
      asio::post(c->worker().io(), [c] { c->Start(); });
    }
    if (ready + failed >= n) return failed == 0;
    if (NowNs() > deadline) {
      std::fprintf(stderr, "meshmq-bench: timed out connecting %s (%zu of %zu ready)\n", what,
                   ready, n);
      return false;
    }
    if (!options_.quiet && NowNs() > next_progress) {
      std::fprintf(stderr, "connecting %s: %zu/%zu ready, %zu failed\n", what, ready, n, failed);
      next_progress += 1'000'000'000;
    }
    SleepMs(1);
  }
}

void Runner::OnEachWorker(const Clients& clients, void (BenchClient::*fn)()) {
  std::atomic<size_t> remaining{clients.size()};
  for (auto& client : clients) {
    BenchClient* c = client.get();
    asio::post(c->worker().io(), [c, fn, &remaining] {
      (c->*fn)();
      remaining.fetch_sub(1);
    });
  }
  while (remaining.load() > 0) std::this_thread::yield();
}

void Runner::Progress(double t, uint64_t& last_sent, uint64_t& last_received) {
  uint64_t sent = counters_.sent.load(std::memory_order_relaxed);
  uint64_t received = counters_.received.load(std::memory_order_relaxed);
  if (!options_.quiet) {
    std::fprintf(stderr, "[%6.1fs] sent %llu (%llu/s)  received %llu (%llu/s)  failed %d\n", t,
                 static_cast<unsigned long long>(sent),
                 static_cast<unsigned long long>(sent - last_sent),
                 static_cast<unsigned long long>(received),
                 static_cast<unsigned long long>(received - last_received),
                 counters_.failed.load());
  }
  last_sent = sent;
  last_received = received;
}

}  // namespace meshmq::bench
