#include "config/option_value.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace meshmq::config::internal {
namespace {

// Lets std::visit take one lambda per member type.
template <typename... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};

template <typename T>
std::pair<int64_t, int64_t> RangeOf(const Option& option) {
  return {std::max<int64_t>(option.min, std::numeric_limits<T>::min()),
          std::min<int64_t>(option.max, std::numeric_limits<T>::max())};
}

template <typename T>
absl::Status SetInteger(const Option& option, absl::string_view text, T& out) {
  auto [lo, hi] = RangeOf<T>(option);
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec == std::errc::invalid_argument || end != text.data() + text.size()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not an integer"));
  }
  if (ec == std::errc::result_out_of_range || value < lo || value > hi) {
    return absl::InvalidArgumentError(
        absl::StrCat("value ", text, " out of range [", lo, ", ", hi, "]"));
  }
  out = static_cast<T>(value);
  return absl::OkStatus();
}

absl::Status SetString(const Option& option, absl::string_view text, std::string& out) {
  if (!option.choices.empty() &&
      std::find(option.choices.begin(), option.choices.end(), text) == option.choices.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not one of ", absl::StrJoin(option.choices, "|")));
  }
  if (option.host_port_text && !text.empty()) {
    absl::StatusOr<HostPort> parsed = ParseHostPort(std::string(text));
    if (!parsed.ok()) return parsed.status();
  }
  out = std::string(text);
  return absl::OkStatus();
}

absl::Status SetBool(absl::string_view text, bool& out) {
  if (text != "true" && text != "false") {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not true|false"));
  }
  out = text == "true";
  return absl::OkStatus();
}

absl::Status SetHostPort(const Option& option, absl::string_view text, HostPort& out) {
  if (option.allow_off && text == "off") {
    out = HostPort{"off", 0};
    return absl::OkStatus();
  }
  absl::StatusOr<HostPort> parsed = ParseHostPort(std::string(text));
  if (!parsed.ok()) return parsed.status();
  out = *parsed;
  return absl::OkStatus();
}

// "a:1, b:2," -> two peers; empty items are skipped so a trailing comma is harmless.
absl::Status SetHostPortList(absl::string_view text, std::vector<HostPort>& out) {
  std::vector<HostPort> list;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (item.empty()) continue;
    absl::StatusOr<HostPort> parsed = ParseHostPort(std::string(item));
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("item ", list.size() + 1, ": ", parsed.status().message()));
    }
    list.push_back(*parsed);
  }
  out = std::move(list);
  return absl::OkStatus();
}

absl::Status WrongType(absl::string_view expected, const nlohmann::json& value) {
  return absl::InvalidArgumentError(
      absl::StrCat("expected ", expected, ", got ", value.type_name()));
}

template <typename M>
struct MemberTypeOf;
template <typename T>
struct MemberTypeOf<T Config::*> {
  using type = T;
};
// The type of the Config member a FieldPtr alternative points to.
template <typename M>
using MemberType = typename MemberTypeOf<M>::type;

constexpr absl::string_view kListType = "an array of \"host:port\" strings";

// The JSON types a file may use for each member type; the result feeds SetFromText.
template <typename Field>
absl::StatusOr<std::string> JsonScalarText(const nlohmann::json& value) {
  if constexpr (std::is_same_v<Field, bool>) {
    if (!value.is_boolean()) return WrongType("true or false", value);
    return std::string(value.get<bool>() ? "true" : "false");
  } else if constexpr (std::is_integral_v<Field>) {
    if (value.is_number_unsigned()) return std::to_string(value.get<uint64_t>());
    if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
    return WrongType("an integer", value);
  } else {  // strings and host:port
    // Structured values (the "bridges" array) are kept as JSON text for their module to parse.
    if constexpr (std::is_same_v<Field, std::string>) {
      if (value.is_array() || value.is_object()) return value.dump();
    }
    if (!value.is_string()) return WrongType("a string", value);
    return value.get<std::string>();
  }
}

// Peers: an array of "host:port" strings, or one comma-separated string like the flag.
absl::StatusOr<std::string> JsonListText(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (!value.is_array()) return WrongType(kListType, value);
  std::vector<std::string> items;
  for (const nlohmann::json& item : value) {
    if (!item.is_string()) return WrongType(kListType, item);
    items.push_back(item.get<std::string>());
  }
  return absl::StrJoin(items, ",");
}

}  // namespace

bool IsBool(const Option& option) { return std::holds_alternative<bool Config::*>(option.field); }

absl::Status SetFromText(const Option& option, absl::string_view text, Config& config) {
  return std::visit(
      Overloaded{
          [&](std::string Config::*m) { return SetString(option, text, config.*m); },
          [&](bool Config::*m) { return SetBool(text, config.*m); },
          [&](int Config::*m) { return SetInteger(option, text, config.*m); },
          [&](uint16_t Config::*m) { return SetInteger(option, text, config.*m); },
          [&](uint32_t Config::*m) { return SetInteger(option, text, config.*m); },
          [&](HostPort Config::*m) { return SetHostPort(option, text, config.*m); },
          [&](std::vector<HostPort> Config::*m) { return SetHostPortList(text, config.*m); },
      },
      option.field);
}

absl::StatusOr<std::string> JsonToText(const Option& option, const nlohmann::json& value) {
  auto visitor = Overloaded{
      [&](std::vector<HostPort> Config::*) { return JsonListText(value); },
      [&](auto member) { return JsonScalarText<MemberType<decltype(member)>>(value); },
  };
  return std::visit(visitor, option.field);
}

nlohmann::ordered_json ToJsonValue(const Option& option, const Config& config) {
  return std::visit(
      Overloaded{
          [&](std::string Config::*m) -> nlohmann::ordered_json {
            const std::string& text = config.*m;
            return option.secret && !text.empty() ? "***" : text;
          },
          [&](HostPort Config::*m) -> nlohmann::ordered_json {
            const HostPort& hp = config.*m;
            return option.allow_off && hp.host == "off" ? "off" : hp.ToString();
          },
          [&](std::vector<HostPort> Config::*m) -> nlohmann::ordered_json {
            nlohmann::ordered_json list = nlohmann::ordered_json::array();
            for (const HostPort& hp : config.*m) list.push_back(hp.ToString());
            return list;
          },
          [&](auto m) -> nlohmann::ordered_json { return config.*m; },  // bool and integers
      },
      option.field);
}

std::string DisplayValue(const Option& option, const Config& config) {
  nlohmann::ordered_json value = ToJsonValue(option, config);
  if (value.is_array()) {
    std::vector<std::string> items;
    for (const auto& item : value) items.push_back(item.get<std::string>());
    return items.empty() ? "\"\"" : absl::StrJoin(items, ",");
  }
  if (value.is_string()) {
    std::string text = value.get<std::string>();
    return text.empty() ? "\"\"" : text;
  }
  return value.dump();
}

std::string ValueHint(const Option& option) {
  if (!option.choices.empty()) return absl::StrJoin(option.choices, "|");
  return std::visit(
      Overloaded{
          [&](std::string Config::*) -> std::string {
            return option.host_port_text ? "HOST:PORT" : "STRING";
          },
          [&](bool Config::*) -> std::string { return ""; },
          [&](HostPort Config::*) -> std::string {
            return option.allow_off ? "HOST:PORT|off" : "HOST:PORT";
          },
          [&](std::vector<HostPort> Config::*) -> std::string { return "HOST:PORT,..."; },
          [&](auto m) -> std::string {
            auto [lo, hi] = RangeOf<MemberType<decltype(m)>>(option);
            return absl::StrCat("INT ", lo, "..", hi);
          },
      },
      option.field);
}

}  // namespace meshmq::config::internal
