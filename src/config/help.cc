#include "config/help.h"

#include "absl/strings/str_cat.h"
#include "config/option_table.h"
#include "config/option_value.h"

namespace meshmq::config::internal {
namespace {

constexpr absl::string_view kHeader =
    "Usage: meshmq [--config FILE] [--flag VALUE | --flag=VALUE]...\n"
    "\n"
    "Each source overrides the ones before it:\n"
    "  built-in defaults < config file (--config FILE or MESHMQ_CONFIG)\n"
    "                    < MESHMQ_* environment variables < command-line flags\n"
    "Boolean flags: --flag or --flag=true|false. Config-file keys are flat: the flag name with\n"
    "'_' for '-' (\"mqtt_listen\"). See docs/configuration.md.\n"
    "\n"
    "General:\n"
    "  --help, -h       Print this help and exit.\n"
    "  --version        Print the version and exit.\n"
    "  --print-config   Print the effective configuration as JSON (secrets as \"***\") and exit.\n"
    "  --config FILE    JSON config file.  env: MESHMQ_CONFIG\n"
    "\n"
    "Options:\n";

}  // namespace

std::string HelpText() {
  const Config defaults;
  std::string out(kHeader);
  for (const Option& option : Options()) {
    std::string hint = ValueHint(option);
    absl::StrAppend(&out, "  --", option.flag, hint.empty() ? "" : " ", hint, "\n      ",
                    option.help, "\n      default: ", DisplayValue(option, defaults),
                    "  env: ", EnvName(option), "  file key: \"", JsonKey(option), "\"\n");
  }
  return out;
}

}  // namespace meshmq::config::internal
