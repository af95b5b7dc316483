// Load(): the four sources applied in precedence order, then the cross-option steps.
#include "config/config.h"

#include <exception>

#include "absl/strings/str_cat.h"
#include "config/finalize.h"
#include "config/help.h"
#include "config/option_value.h"
#include "config/sources.h"

namespace meshmq::config {
namespace {

using internal::LoadState;
using internal::ParsedArgs;

LoadResult Exit(int code, std::string output, std::string error) {
  LoadResult result;
  result.exit_now = true;
  result.exit_code = code;
  result.output = std::move(output);
  result.error = std::move(error);
  return result;
}

LoadResult Fail(const absl::Status& status) {
  return Exit(2, "", absl::StrCat("meshmq: ", status.message()));
}

// defaults < config file < environment < command line.
absl::Status ApplyAll(const ParsedArgs& args, const char* const* envp, LoadState& state) {
  std::optional<std::string> file = args.config_file;
  if (!file) file = internal::GetEnv(envp, internal::kConfigEnv);
  if (file && !file->empty()) {
    absl::Status status = internal::ApplyFile(*file, state);
    if (!status.ok()) return status;
  }
  absl::Status status = internal::ApplyEnv(envp, state);
  if (!status.ok()) return status;
  status = internal::ApplyArgs(args, state);
  if (!status.ok()) return status;
  return internal::Finalize(envp, state);
}

LoadResult LoadOrExit(int argc, const char* const* argv, const char* const* envp) {
  absl::StatusOr<ParsedArgs> args = internal::ScanArgs(argc, argv);
  if (!args.ok()) return Fail(args.status());
  if (args->help) return Exit(0, internal::HelpText(), "");
  if (args->version) return Exit(0, "meshmq " MESHMQ_VERSION "\n", "");
  LoadState state;
  absl::Status status = ApplyAll(*args, envp, state);
  if (!status.ok()) return Fail(status);
  if (args->print_config) return Exit(0, ToJson(state.config) + "\n", "");
  LoadResult result;
  result.config = std::move(state.config);
  return result;
}

}  // namespace

LoadResult Load(int argc, const char* const* argv, const char* const* envp) {
  // Start-up code may throw (allocation, iostreams); the caller gets a result, never a throw.
  try {
    return LoadOrExit(argc, argv, envp);
  } catch (const std::exception& e) {
    return Exit(2, "",
                absl::StrCat("meshmq: internal error while loading configuration: ", e.what()));
  }
}

std::string ToJson(const Config& config) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const internal::Option& option : internal::Options()) {
    out[internal::JsonKey(option)] = internal::ToJsonValue(option, config);
  }
  // Replace, not throw, on invalid UTF-8 (a node id from the environment can be anything).
  return out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace meshmq::config
