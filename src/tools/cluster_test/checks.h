// The checks meshmq-cluster-test runs against a live cluster. Each check opens its own clients,
// uses topics under a per-run prefix, and cleans up what it leaves on the brokers (retained
// messages, persistent sessions). Single-threaded.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace meshmq::tools {

struct CheckContext {
  std::string sub;     // node the subscribers use ("host:port")
  std::string pub;     // node the publishers use
  std::string third;   // a third node (retained visibility, shared members, sessions)
  int timeout_ms = 5000;
  // Pause between publishing to an offline session and resuming it on another node. A PUBACK
  // only means "queued for the old node"; messages still on their way there when the session
  // moves are lost (known cluster race), so 0 exposes that race.
  int settle_ms = 300;
  std::string prefix;  // unique per run, e.g. "mmqct/1234-1700000000"
};

// A check returns OK or the reason it failed; `note` may carry details for the PASS line.
using CheckFn = absl::Status (*)(const CheckContext& ctx, std::string& note);

struct Check {
  const char* name;
  CheckFn run;
};

const std::vector<Check>& AllChecks();

}  // namespace meshmq::tools
