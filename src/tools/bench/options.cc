#include "tools/bench/options.h"

#include <charconv>
#include <cstdlib>
#include <functional>
#include <map>
#include <string_view>

namespace meshmq::bench {
namespace {

constexpr char kUsage[] =
    "Usage: meshmq-bench [conn|pubsub] [options]\n"
    "  --targets H:P,H:P      brokers; clients spread round robin (default 127.0.0.1:1883)\n"
    "  --pub-targets LIST     brokers for publishers only (cluster runs)\n"
    "  --sub-targets LIST     brokers for subscribers only\n"
    "  --threads N            io_context threads (default 1)\n"
    "  --mqtt 4|5             protocol: 4 = 3.1.1 (default), 5 = 5.0\n"
    "  --keep-alive S         CONNECT keep alive, no PINGREQ is sent (default 600)\n"
    " pubsub:\n"
    "  --layout pairs|fanin|fanout|shared   topic layout (default pairs)\n"
    "  --publishers P --subscribers S       (pairs uses max(P,S) for both)\n"
    "  --qos 0|1|2 --payload BYTES (>= 16) --rate MSG_PER_S_PER_PUBLISHER (0 = unbounded)\n"
    "  --inflight N           per publisher: messages sent but not yet delivered to every\n"
    "                         subscriber (closed loop); also bounds unacked QoS 1/2 and\n"
    "                         unwritten QoS 0 messages (default 100)\n"
    "  --open-loop            do not wait for deliveries: only socket back-pressure and the\n"
    "                         QoS 1/2 ack window limit publishers (the broker may queue or drop)\n"
    "  --duration S | --count N   publish phase length or messages per publisher\n"
    "  --drain S              wait for stragglers after publishing stops (default 2)\n"
    "  --settle S             pause after all SUBACKs before publishing (cluster route spread)\n"
    "  --expect-no-loss       exit 1 when any message is lost or duplicated\n"
    "  --persistent           persistent sessions (clean session 0 / session expiry 300 s)\n"
    "  --kill-subscriber-after MS   abruptly close subscriber 0 (tests loss detection)\n"
    " conn:\n"
    "  --connections N --duration HOLD_S --no-subscribe --on-ready 'SHELL COMMAND'\n"
    "  --connect-window N     concurrent connection attempts (default 200)\n"
    " --label TEXT (copied into the JSON line), --quiet (no progress lines)\n";

bool ParseTargets(std::string_view text, std::vector<Target>& out) {
  out.clear();
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    size_t colon = item.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    Target t;
    t.host = std::string(item.substr(0, colon));
    auto digits = item.substr(colon + 1);
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), t.port);
    if (ec != std::errc() || p != digits.data() + digits.size() || t.port == 0) return false;
    out.push_back(std::move(t));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return !out.empty();
}

bool ParseLayout(std::string_view v, Layout& layout) {
  if (v == "pairs") layout = Layout::kPairs;
  else if (v == "fanin") layout = Layout::kFanIn;
  else if (v == "fanout") layout = Layout::kFanOut;
  else if (v == "shared") layout = Layout::kShared;
  else return false;
  return true;
}

template <typename T>
bool ParseNumber(const std::string& v, T& out) {
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || d < 0) return false;
  out = static_cast<T>(d);
  return true;
}

using Setter = std::function<bool(Options&, const std::string&)>;

template <typename T>
Setter Num(T Options::*field) {
  return [field](Options& o, const std::string& v) { return ParseNumber(v, o.*field); };
}

const std::map<std::string_view, Setter>& ValueFlags() {
  static const auto* const kFlags = new std::map<std::string_view, Setter>{
      {"--targets", [](Options& o, const std::string& v) {
         return ParseTargets(v, o.pub_targets) && ParseTargets(v, o.sub_targets); }},
      {"--pub-targets", [](Options& o, const std::string& v) {
         return ParseTargets(v, o.pub_targets); }},
      {"--sub-targets", [](Options& o, const std::string& v) {
         return ParseTargets(v, o.sub_targets); }},
      {"--layout", [](Options& o, const std::string& v) { return ParseLayout(v, o.layout); }},
      {"--threads", Num(&Options::threads)},
      {"--mqtt", Num(&Options::mqtt_version)},
      {"--publishers", Num(&Options::publishers)},
      {"--subscribers", Num(&Options::subscribers)},
      {"--connections", Num(&Options::connections)},
      {"--qos", Num(&Options::qos)},
      {"--payload", Num(&Options::payload)},
      {"--rate", Num(&Options::rate)},
      {"--inflight", Num(&Options::inflight)},
      {"--duration", Num(&Options::duration_s)},
      {"--count", Num(&Options::count)},
      {"--drain", Num(&Options::drain_s)},
      {"--settle", Num(&Options::settle_s)},
      {"--connect-window", Num(&Options::connect_window)},
      {"--keep-alive", Num(&Options::keep_alive_s)},
      {"--kill-subscriber-after", Num(&Options::kill_subscriber_after_ms)},
      {"--on-ready", [](Options& o, const std::string& v) { o.on_ready = v; return true; }},
      {"--label", [](Options& o, const std::string& v) { o.label = v; return true; }},
  };
  return *kFlags;
}

// Cross-field checks and the layout's implied counts.
bool Finish(Options& o, std::string& error) {
  if (o.qos < 0 || o.qos > 2) error = "--qos must be 0, 1 or 2";
  else if (o.payload < 16) error = "--payload must be at least 16 bytes (sequence + timestamp)";
  else if (o.mqtt_version != 4 && o.mqtt_version != 5) error = "--mqtt must be 4 or 5";
  else if (o.keep_alive_s < 0 || o.keep_alive_s > 65535) error = "--keep-alive must be 0..65535";
  else if (o.threads < 1 || o.inflight < 1 || o.inflight > 65000) error = "bad --threads/--inflight";
  else if (o.publishers < 1 || o.subscribers < 1 || o.connections < 1) error = "counts must be >= 1";
  if (!error.empty()) return false;
  if (o.layout == Layout::kPairs) o.publishers = o.subscribers = std::max(o.publishers, o.subscribers);
  if (o.layout == Layout::kFanOut) o.publishers = 1;
  if (o.connect_window < 1) o.connect_window = 1;
  return true;
}

}  // namespace

const char* Usage() { return kUsage; }

const char* LayoutName(Layout layout) {
  switch (layout) {
    case Layout::kPairs: return "pairs";
    case Layout::kFanIn: return "fanin";
    case Layout::kFanOut: return "fanout";
    case Layout::kShared: return "shared";
  }
  return "?";
}

std::optional<Options> ParseOptions(int argc, char** argv, std::string& error) {
  Options o;
  ParseTargets("127.0.0.1:1883", o.pub_targets);
  o.sub_targets = o.pub_targets;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "conn") o.scenario = Scenario::kConn;
    else if (arg == "pubsub") o.scenario = Scenario::kPubSub;
    else if (arg == "--expect-no-loss") o.expect_no_loss = true;
    else if (arg == "--no-subscribe") o.conn_subscribe = false;
    else if (arg == "--quiet") o.quiet = true;
    else if (arg == "--open-loop") o.open_loop = true;
    else if (arg == "--persistent") o.persistent = true;
    else if (auto it = ValueFlags().find(arg); it != ValueFlags().end()) {
      if (i + 1 >= argc || !it->second(o, argv[i + 1])) {
        error = std::string("bad or missing value for ").append(arg);
        return std::nullopt;
      }
      ++i;
    } else {
      error = std::string("unknown argument ").append(arg);
      return std::nullopt;
    }
  }
  if (!Finish(o, error)) return std::nullopt;
  return o;
}

}  // namespace meshmq::bench
