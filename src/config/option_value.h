// Typed reading and writing of one option's value, driven by the option table. Every source
// (flag, environment, config file) funnels into SetFromText, so a value is validated the same way
// wherever it comes from.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "config/option_table.h"
#include "nlohmann/json.hpp"

namespace meshmq::config::internal {

// Parses and validates `text` into the option's member of `config`. The error message names
// neither the option nor the source (the caller prefixes both) and never contains a secret.
absl::Status SetFromText(const Option& option, absl::string_view text, Config& config);

// A config-file value as the text SetFromText takes; an error if its JSON type is wrong for the
// option (integers want numbers, booleans want true/false, peers a string or array of strings).
absl::StatusOr<std::string> JsonToText(const Option& option, const nlohmann::json& value);

// The option's current value as typed JSON, secrets as "***" when set.
nlohmann::ordered_json ToJsonValue(const Option& option, const Config& config);

// The option's current value as text for --help ("" shown as "\"\""), secrets as "***".
std::string DisplayValue(const Option& option, const Config& config);

// What the value looks like, for --help: "INT 1..65535", "HOST:PORT", "trace|debug|...".
std::string ValueHint(const Option& option);

bool IsBool(const Option& option);

}  // namespace meshmq::config::internal
