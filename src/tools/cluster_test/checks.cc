#include "tools/cluster_test/checks.h"

#include "tools/cluster_test/checks_impl.h"

namespace meshmq::tools {

const std::vector<Check>& AllChecks() {
  static const std::vector<Check> kChecks = {
      {"qos0 cross-node delivery", CheckQos0},
      {"qos1 cross-node delivery", CheckQos1},
      {"qos2 cross-node delivery", CheckQos2},
      {"wildcard routes ('+' and '#')", CheckWildcards},
      {"qos1 order across nodes", CheckOrder},
      {"unsubscribe stops cross-node delivery", CheckUnsubscribe},
      {"retained visible from other nodes", CheckRetained},
      {"takeover across nodes", CheckTakeover},
      {"persistent session moves to another node", CheckSessionMigration},
      {"shared subscription across nodes", CheckSharedSubscription},
  };
  return kChecks;
}

}  // namespace meshmq::tools
