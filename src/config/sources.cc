#include "config/sources.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "config/json_error.h"
#include "config/option_value.h"
#include "nlohmann/json.hpp"

namespace meshmq::config::internal {
namespace {

// Applies one value and records where it came from. `label` names the source and key.
absl::Status Apply(const Option& option, absl::string_view text, const std::string& label,
                   LoadState& state) {
  absl::Status status = SetFromText(option, text, state.config);
  if (!status.ok()) {
    // Secret values are never echoed, whatever the parser put in its message.
    absl::string_view why = option.secret ? "invalid value" : status.message();
    return absl::InvalidArgumentError(absl::StrCat(label, ": ", why));
  }
  state.origin[IndexOf(option)] = label;
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::DataLossError(std::strerror(errno));
  return text.str();
}

// Handles one "--..." argument at argv[*i]; may consume argv[*i + 1] as its value.
absl::Status ScanFlag(int argc, const char* const* argv, int* i, ParsedArgs& out) {
  absl::string_view arg = argv[*i];
  absl::string_view name = arg.substr(2);
  std::optional<std::string> value;
  if (size_t eq = name.find('='); eq != absl::string_view::npos) {
    value = std::string(name.substr(eq + 1));
    name = name.substr(0, eq);
  }
  const std::string flag = absl::StrCat("--", name);
  if (name == "help" || name == "version" || name == "print-config") {
    if (value) return absl::InvalidArgumentError(absl::StrCat(flag, ": takes no value"));
    (name == "help" ? out.help : name == "version" ? out.version : out.print_config) = true;
    return absl::OkStatus();
  }
  const Option* option = FindOptionByFlag(name);
  if (option == nullptr && name != "config") {
    return absl::InvalidArgumentError(absl::StrCat("unknown flag ", flag, " (see --help)"));
  }
  if (!value && option != nullptr && IsBool(*option)) value = "true";
  if (!value) {
    // A following flag is not a value: "--node-id --workers 4" forgot the node id.
    if (*i + 1 >= argc || absl::StartsWith(argv[*i + 1], "--")) {
      return absl::InvalidArgumentError(absl::StrCat(flag, ": missing value"));
    }
    value = argv[++*i];
  }
  if (option == nullptr) {
    out.config_file = *value;
  } else {
    out.settings.push_back({option, *std::move(value)});
  }
  return absl::OkStatus();
}

}  // namespace

std::string LoadState::OriginOf(const Option& option) const {
  const std::string& label = origin[IndexOf(option)];
  return label.empty() ? absl::StrCat("--", option.flag) : label;
}

absl::StatusOr<ParsedArgs> ScanArgs(int argc, const char* const* argv) {
  ParsedArgs out;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "-h") {
      out.help = true;
    } else if (absl::StartsWith(arg, "--") && arg.size() > 2) {
      absl::Status status = ScanFlag(argc, argv, &i, out);
      if (!status.ok()) return status;
    } else if (absl::StartsWith(arg, "-")) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", arg.substr(0, arg.find('=')),
                                                     " (flags start with --; see --help)"));
    } else {
      // Not echoed: a stray word is often a value split off its flag, and could be a secret.
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument #", i, " (flags start with --; see --help)"));
    }
  }
  return out;
}

absl::Status ApplyFile(const std::string& path, LoadState& state) {
  const std::string where = absl::StrCat("config file ", path);
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": cannot read: ", text.status().message()));
  }
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(*text);
  } catch (const nlohmann::json::parse_error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": invalid JSON: ", SanitizeJsonError(e.what())));
  }
  if (!root.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": expected a JSON object of flat keys, got ", root.type_name()));
  }
  for (const auto& [key, value] : root.items()) {
    const Option* option = FindOptionByKey(key);
    if (option == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": unknown key \"", key, "\""));
    }
    const std::string label = absl::StrCat(where, ": key \"", key, "\"");
    absl::StatusOr<std::string> as_text = JsonToText(*option, value);
    if (!as_text.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(label, ": ", as_text.status().message()));
    }
    absl::Status status = Apply(*option, *as_text, label, state);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ApplyEnv(const char* const* envp, LoadState& state) {
  // Unknown MESHMQ_* variables are ignored: scripts and tests share the prefix (MESHMQ_BIN ...).
  for (const Option& option : Options()) {
    const std::string name = EnvName(option);
    std::optional<std::string> value = GetEnv(envp, name);
    if (!value) continue;
    absl::Status status = Apply(option, *value, name, state);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ApplyArgs(const ParsedArgs& args, LoadState& state) {
  for (const ParsedArgs::Setting& setting : args.settings) {
    absl::Status status =
        Apply(*setting.option, setting.value, absl::StrCat("--", setting.option->flag), state);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

std::optional<std::string> GetEnv(const char* const* envp, absl::string_view name) {
  for (; envp != nullptr && *envp != nullptr; ++envp) {
    absl::string_view entry = *envp;
    if (absl::StartsWith(entry, name) && entry.size() > name.size() && entry[name.size()] == '=') {
      return std::string(entry.substr(name.size() + 1));
    }
  }
  return std::nullopt;
}

}  // namespace meshmq::config::internal
