// The three places a setting can come from — config file, environment, command line — each
// applied onto a LoadState in precedence order by Load().
//
// Used only on the main thread during start-up.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "config/option_table.h"

namespace meshmq::config::internal {

// The config being built plus, per option (by IndexOf), the source that last set it, e.g.
// "--peers", "MESHMQ_PEERS" or `config file /etc/meshmq.json: key "peers"`. Error messages about
// an option name that source so the operator knows which one to fix.
struct LoadState {
  Config config;
  std::vector<std::string> origin = std::vector<std::string>(Options().size());

  // The source that set `option`, or its flag name when it still holds the default.
  std::string OriginOf(const Option& option) const;
};

// argv split into settings and the flags that are not options (--help, --config ...). Scanning
// first lets --help and --version work without touching files, and finds --config before the
// file has to be read.
struct ParsedArgs {
  struct Setting {
    const Option* option;
    std::string value;
  };
  std::vector<Setting> settings;  // in command-line order; later ones win
  bool help = false;
  bool version = false;
  bool print_config = false;
  std::optional<std::string> config_file;
};

// Errors: unknown flag, missing value, stray argument. Values are not validated here.
absl::StatusOr<ParsedArgs> ScanArgs(int argc, const char* const* argv);

absl::Status ApplyFile(const std::string& path, LoadState& state);
absl::Status ApplyEnv(const char* const* envp, LoadState& state);
absl::Status ApplyArgs(const ParsedArgs& args, LoadState& state);

// The value of `name` in a main()-style environment block, or nullopt. `envp` may be null.
std::optional<std::string> GetEnv(const char* const* envp, absl::string_view name);

}  // namespace meshmq::config::internal
