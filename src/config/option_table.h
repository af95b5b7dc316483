// The single table of configuration options. Every way of setting an option — `--flag VALUE`,
// `--flag=VALUE`, the MESHMQ_* environment variable, the JSON config-file key — and every way of
// showing one — --help, --print-config — is derived from this table, so adding a field to
// Config means adding one row here and nothing else.
//
// Immutable after first use; safe to read from any thread.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"
#include "config/config.h"

namespace meshmq::config::internal {

// Which Config member an option writes. The member's type decides how text is parsed.
using FieldPtr =
    std::variant<std::string Config::*, bool Config::*, int Config::*, uint16_t Config::*,
                 uint32_t Config::*, HostPort Config::*, std::vector<HostPort> Config::*>;

struct Option {
  absl::string_view flag;  // "mqtt-listen": the one name everything else is derived from
  FieldPtr field;
  absl::string_view help;
  // Integer fields: allowed range, further narrowed by the member's own type.
  int64_t min = std::numeric_limits<int64_t>::min();
  int64_t max = std::numeric_limits<int64_t>::max();
  std::vector<absl::string_view> choices = {};  // string fields: the allowed values (an enum)
  bool host_port_text = false;  // string field whose non-empty value must be host:port
  bool allow_off = false;       // HostPort field that also accepts "off" (= off:0, disabled)
  bool secret = false;          // never printed, logged or echoed in an error
};

std::span<const Option> Options();

// nullptr when no option has this flag name (without the leading "--").
const Option* FindOptionByFlag(absl::string_view flag);
// nullptr when no option has this config-file key.
const Option* FindOptionByKey(absl::string_view key);

std::string EnvName(const Option& option);  // "MESHMQ_MQTT_LISTEN"
std::string JsonKey(const Option& option);  // "mqtt_listen"
size_t IndexOf(const Option& option);       // position in Options()

inline constexpr absl::string_view kEnvPrefix = "MESHMQ_";
inline constexpr absl::string_view kConfigEnv = "MESHMQ_CONFIG";

}  // namespace meshmq::config::internal
