#include "tools/bench/report.h"

#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

namespace meshmq::bench {
namespace {

double PerSecond(uint64_t n, double s) { return s > 0 ? static_cast<double>(n) / s : 0; }
double Us(int64_t ns) { return static_cast<double>(ns) / 1000.0; }

nlohmann::json Common(const Options& o, const char* scenario) {
  nlohmann::json j;
  j["scenario"] = scenario;
  if (!o.label.empty()) j["label"] = o.label;
  j["mqtt"] = o.mqtt_version;
  j["threads"] = o.threads;
  return j;
}

}  // namespace

void ReportPubSub(const Options& o, const PubSubResult& r) {
  const Totals& t = r.totals;
  const LatencyHistogram& h = r.latency;
  double msgs_per_s = PerSecond(t.received, r.deliver_s);
  double pub_per_s = PerSecond(t.sent, r.publish_s);
  std::fprintf(stderr,
               "\n%s qos%d payload %dB, %d pub -> %d sub, %.1fs\n"
               "  sent %llu (%.0f msg/s), received %llu of %llu expected (%.0f msg/s)\n"
               "  lost %llu, duplicated %llu, out of order %llu, failed connections %d\n"
               "  latency us: p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f  max %.0f (%llu samples)\n",
               LayoutName(o.layout), o.qos, o.payload, o.publishers, o.subscribers, r.publish_s,
               static_cast<unsigned long long>(t.sent), pub_per_s,
               static_cast<unsigned long long>(t.received),
               static_cast<unsigned long long>(t.expected), msgs_per_s,
               static_cast<unsigned long long>(t.lost),
               static_cast<unsigned long long>(t.duplicates),
               static_cast<unsigned long long>(t.out_of_order), r.failed, Us(h.Percentile(0.5)),
               Us(h.Percentile(0.9)), Us(h.Percentile(0.99)), Us(h.Percentile(0.999)),
               Us(h.max_ns()), static_cast<unsigned long long>(h.count()));
  nlohmann::json j = Common(o, "pubsub");
  j["layout"] = LayoutName(o.layout);
  j["qos"] = o.qos;
  j["payload"] = o.payload;
  j["publishers"] = o.publishers;
  j["subscribers"] = o.subscribers;
  j["rate"] = o.rate;
  j["publish_s"] = r.publish_s;
  j["sent"] = t.sent;
  j["expected"] = t.expected;
  j["received"] = t.received;
  j["lost"] = t.lost;
  j["dup"] = t.duplicates;
  j["ooo"] = t.out_of_order;
  j["failed"] = r.failed;
  j["pub_per_s"] = pub_per_s;
  j["msgs_per_s"] = msgs_per_s;
  j["p50_us"] = Us(h.Percentile(0.5));
  j["p90_us"] = Us(h.Percentile(0.9));
  j["p99_us"] = Us(h.Percentile(0.99));
  j["p999_us"] = Us(h.Percentile(0.999));
  j["max_us"] = Us(h.max_ns());
  j["latency_samples"] = h.count();
  std::cout << j.dump() << std::endl;
}

void ReportConn(const Options& o, const ConnResult& r) {
  double rate = PerSecond(static_cast<uint64_t>(r.connected), r.connect_s);
  std::fprintf(stderr, "\nconn: %d of %d connected%s in %.2fs (%.0f conn/s), %d failed\n",
               r.connected, r.requested, o.conn_subscribe ? " and subscribed" : "", r.connect_s,
               rate, r.failed);
  nlohmann::json j = Common(o, "conn");
  j["connections"] = r.requested;
  j["connected"] = r.connected;
  j["failed"] = r.failed;
  j["subscribe"] = o.conn_subscribe;
  j["connect_s"] = r.connect_s;
  j["conn_per_s"] = rate;
  std::cout << j.dump() << std::endl;
}

}  // namespace meshmq::bench
