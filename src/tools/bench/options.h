// Command-line options of meshmq-bench, parsed into one plain struct.
//
// Read-only after parsing; every thread may read it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace meshmq::bench {

enum class Scenario { kConn, kPubSub };
// How publishers and subscribers meet (see docs/benchmarks.md).
enum class Layout { kPairs, kFanIn, kFanOut, kShared };

struct Target {
  std::string host;
  uint16_t port = 0;
};

struct Options {
  Scenario scenario = Scenario::kPubSub;
  Layout layout = Layout::kPairs;
  int threads = 1;
  int publishers = 1;
  int subscribers = 1;
  int connections = 1000;           // conn scenario
  bool conn_subscribe = true;       // conn scenario: each connection subscribes to its own topic
  int qos = 0;
  int payload = 16;                 // bytes, >= 16
  double rate = 0;                  // msg/s per publisher; 0 = unbounded (window-limited)
  int inflight = 100;               // per publisher: undelivered messages (closed loop), and
                                    // unacked (QoS 1/2) or unwritten (QoS 0) messages
  bool open_loop = false;           // publish without waiting for deliveries (see --open-loop)
  double duration_s = 10;           // publish phase (pubsub) or hold time (conn)
  uint64_t count = 0;               // messages per publisher; 0 = use duration
  double settle_s = 0;              // pause between the last SUBACK and the first PUBLISH
  double drain_s = 2;               // wait for stragglers after publishers stop
  int mqtt_version = 4;             // 4 = 3.1.1, 5 = 5.0
  // Not 0: meshmq (at the time of writing) closes a keep-alive-0 client when its connect-timeout
  // timer fires, 10 s after connecting. Long enough that no PINGREQ is ever due in a run.
  int keep_alive_s = 600;
  int connect_window = 200;         // concurrent connection attempts
  std::vector<Target> pub_targets;  // publishers spread round robin over these
  std::vector<Target> sub_targets;  // subscribers spread round robin over these
  bool expect_no_loss = false;
  // Every client keeps a persistent session (3.1.1 clean session 0, v5 Session Expiry 300 s), so
  // a broker with a store writes the subscribers' QoS 1/2 messages (docs/storage.md).
  bool persistent = false;
  int kill_subscriber_after_ms = -1;  // abruptly close subscriber 0 after this long (testing)
  std::string on_ready;             // conn: shell command run once all connections are up
  std::string label;                // copied into the JSON line
  bool quiet = false;               // no progress lines
};

// Parses argv; on error returns nullopt after writing a message to `error`.
std::optional<Options> ParseOptions(int argc, char** argv, std::string& error);

const char* Usage();
const char* LayoutName(Layout layout);

}  // namespace meshmq::bench
