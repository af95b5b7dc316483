// The steps that need every source applied first: reading the cluster secret file, defaulting
// node_id, and checks that involve more than one option.
//
// Used only on the main thread during start-up.
#pragma once

#include "absl/status/status.h"
#include "config/sources.h"

namespace meshmq::config::internal {

absl::Status Finalize(const char* const* envp, LoadState& state);

}  // namespace meshmq::config::internal
