// The individual checks; AllChecks() in checks.cc lists them in the order they run.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "tools/cluster_test/checks.h"

namespace meshmq::tools {

absl::Status CheckQos0(const CheckContext& ctx, std::string& note);
absl::Status CheckQos1(const CheckContext& ctx, std::string& note);
absl::Status CheckQos2(const CheckContext& ctx, std::string& note);
absl::Status CheckWildcards(const CheckContext& ctx, std::string& note);
absl::Status CheckOrder(const CheckContext& ctx, std::string& note);
absl::Status CheckUnsubscribe(const CheckContext& ctx, std::string& note);
absl::Status CheckRetained(const CheckContext& ctx, std::string& note);
absl::Status CheckTakeover(const CheckContext& ctx, std::string& note);
absl::Status CheckSessionMigration(const CheckContext& ctx, std::string& note);
absl::Status CheckSharedSubscription(const CheckContext& ctx, std::string& note);

}  // namespace meshmq::tools
