// The human summary (stderr) and the one JSON line (stdout) a run ends with.
#pragma once

#include <cstdint>

#include "tools/bench/accounting.h"
#include "tools/bench/latency_histogram.h"
#include "tools/bench/options.h"

namespace meshmq::bench {

struct PubSubResult {
  Totals totals;
  LatencyHistogram latency;
  double publish_s = 0;   // publishers started -> stopped
  double deliver_s = 0;   // publishers started -> last delivery
  int failed = 0;         // connections that failed or were closed by the broker
};

struct ConnResult {
  int requested = 0;
  int connected = 0;
  int failed = 0;
  double connect_s = 0;   // first attempt -> last CONNACK/SUBACK
};

void ReportPubSub(const Options& options, const PubSubResult& r);
void ReportConn(const Options& options, const ConnResult& r);

}  // namespace meshmq::bench
