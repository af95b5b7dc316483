// Runner's two scenarios: conn (connect and hold) and pubsub (publish, drain, account).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include <boost/asio/post.hpp>

#include "absl/strings/str_cat.h"
#include "tools/bench/accounting.h"
#include "tools/bench/report.h"
#include "tools/bench/runner.h"

namespace meshmq::bench {
namespace {

double Seconds(int64_t from_ns, int64_t to_ns) { return static_cast<double>(to_ns - from_ns) / 1e9; }
void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// Topic of publisher `p` and filter of subscriber `s` for the layout.
std::string PublishTopic(const Options& o, const std::string& base, int p) {
  return absl::StrCat(base, "t", o.layout == Layout::kPairs ? p : 0);
}
std::string SubscribeFilter(const Options& o, const std::string& base, int s) {
  if (o.layout == Layout::kShared) return absl::StrCat("$share/g/", base, "t0");
  return PublishTopic(o, base, s);
}

}  // namespace

void Runner::CreatePubSubClients(const Endpoints& pub_eps, const Endpoints& sub_eps) {
  const std::string id_base = absl::StrCat("b", getpid(), "-");
  flows_ = std::vector<PublisherFlow>(static_cast<size_t>(options_.publishers));
  std::vector<PublisherFlow>* flows = options_.open_loop ? nullptr : &flows_;
  const uint64_t receivers = ReceiversPerMessage(options_);
  for (int s = 0; s < options_.subscribers; ++s) {
    ClientSpec spec{.index = static_cast<uint32_t>(s),
                    .endpoint = sub_eps[s % sub_eps.size()],
                    .client_id = absl::StrCat(id_base, "s", s),
                    .subscribe_filter = SubscribeFilter(options_, topic_base_, s),
                    .publish_topic = {},
                    .flows = flows,
                    .receivers = receivers};
    subs_.push_back(std::make_unique<BenchClient>(NextWorker(), options_, std::move(spec)));
  }
  for (int p = 0; p < options_.publishers; ++p) {
    ClientSpec spec{.index = static_cast<uint32_t>(p),
                    .endpoint = pub_eps[p % pub_eps.size()],
                    .client_id = absl::StrCat(id_base, "p", p),
                    .subscribe_filter = {},
                    .publish_topic = PublishTopic(options_, topic_base_, p),
                    .flows = flows,
                    .receivers = receivers};
    pubs_.push_back(std::make_unique<BenchClient>(NextWorker(), options_, std::move(spec)));
    flows_[static_cast<size_t>(p)].publisher = pubs_.back().get();
  }
}

int Runner::RunPubSub() {
  Endpoints pub_eps, sub_eps;
  if (!Resolve(options_.pub_targets, pub_eps) || !Resolve(options_.sub_targets, sub_eps)) return 2;
  CreatePubSubClients(pub_eps, sub_eps);
  if (!ConnectAll(subs_, "subscribers") || !ConnectAll(pubs_, "publishers")) return 2;
  if (options_.settle_s > 0) SleepMs(static_cast<int>(options_.settle_s * 1000));
  if (options_.kill_subscriber_after_ms >= 0) {
    BenchClient* victim = subs_[0].get();
    int ms = options_.kill_subscriber_after_ms;
    boost::asio::post(victim->worker().io(), [victim, ms] { victim->AbortAfter(ms); });
  }
  const int64_t t0 = NowNs();
  OnEachWorker(pubs_, &BenchClient::StartPublishing);
  uint64_t last_sent = 0, last_received = 0;
  // With --count the run ends when every publisher is done (or after a generous cap).
  const double cap_s = options_.count > 0 ? 600 : options_.duration_s;
  for (int tick = 1;; ++tick) {
    SleepMs(100);
    double t = Seconds(t0, NowNs());
    if (tick % 10 == 0) Progress(t, last_sent, last_received);
    if (options_.count > 0 && counters_.publishers_done.load() >= options_.publishers) break;
    if (t >= cap_s) break;
  }
  OnEachWorker(pubs_, &BenchClient::StopPublishing);
  const int64_t t_stop = NowNs();
  // Drain: QoS 1/2 flows finish and stragglers arrive, for at most --drain seconds.
  const uint64_t receivers = ReceiversPerMessage(options_);
  while (Seconds(t_stop, NowNs()) < options_.drain_s) {
    uint64_t sent = counters_.sent.load();
    bool flows_done = options_.qos == 0 || counters_.completed.load() >= sent;
    if (flows_done && counters_.received.load() >= sent * receivers) break;
    SleepMs(10);
  }
  StopWorkers();

  PubSubResult r;
  r.totals = Account(options_, pubs_, subs_);
  for (auto& w : workers_) r.latency.Merge(w->histogram());
  r.publish_s = Seconds(t0, t_stop);
  int64_t last = counters_.last_receive_ns.load();
  r.deliver_s = last > t0 ? Seconds(t0, last) : 0;
  r.failed = counters_.failed.load();
  ReportPubSub(options_, r);
  bool clean = r.totals.lost == 0 && r.totals.duplicates == 0 && r.failed == 0;
  return options_.expect_no_loss && !clean ? 1 : 0;
}

int Runner::RunConn() {
  Endpoints eps;
  if (!Resolve(options_.sub_targets, eps)) return 2;
  const std::string id_base = absl::StrCat("b", getpid(), "-c");
  for (int i = 0; i < options_.connections; ++i) {
    ClientSpec spec{.index = static_cast<uint32_t>(i),
                    .endpoint = eps[i % eps.size()],
                    .client_id = absl::StrCat(id_base, i),
                    .subscribe_filter = {},
                    .publish_topic = {},
                    .flows = nullptr,
                    .receivers = 1};
    if (options_.conn_subscribe) spec.subscribe_filter = absl::StrCat(topic_base_, "c", i);
    conns_.push_back(std::make_unique<BenchClient>(NextWorker(), options_, std::move(spec)));
  }
  const int64_t t0 = NowNs();
  bool ok = ConnectAll(conns_, "connections");
  ConnResult r;
  r.requested = options_.connections;
  r.connect_s = Seconds(t0, NowNs());
  r.connected = counters_.ready.load();
  if (ok && !options_.on_ready.empty()) {
    // Lets bench.sh sample the broker's memory while every connection is up.
    int rc = std::system(options_.on_ready.c_str());
    if (rc != 0) std::fprintf(stderr, "meshmq-bench: --on-ready exited with %d\n", rc);
  }
  const int64_t hold_until = NowNs() + static_cast<int64_t>(options_.duration_s * 1e9);
  while (NowNs() < hold_until) SleepMs(50);
  r.failed = counters_.failed.load();
  StopWorkers();
  ReportConn(options_, r);
  return ok && r.failed == 0 ? 0 : 2;
}

}  // namespace meshmq::bench
