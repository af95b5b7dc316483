#include "config/json_error.h"

#include <array>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace meshmq::config::internal {
namespace {

// nlohmann's token_type_name() values: the only text that may follow "; expected ".
constexpr std::array<absl::string_view, 16> kTokenNames = {"<uninitialized>",
                                                           "true literal",
                                                           "false literal",
                                                           "null literal",
                                                           "string literal",
                                                           "number literal",
                                                           "'['",
                                                           "'{'",
                                                           "']'",
                                                           "'}'",
                                                           "':'",
                                                           "','",
                                                           "<parse error>",
                                                           "end of input",
                                                           "'[', '{', or a literal",
                                                           "unknown token"};

}  // namespace

std::string SanitizeJsonError(absl::string_view what) {
  // Drop the "[json.exception.parse_error.101] " id: it means nothing to an operator.
  if (absl::StartsWith(what, "[json.exception.")) {
    size_t close = what.find("] ");
    if (close != absl::string_view::npos) what.remove_prefix(close + 2);
  }
  constexpr absl::string_view kLastRead = "; last read: '";
  size_t start = what.find(kLastRead);
  if (start == absl::string_view::npos) return std::string(what);
  std::string out(what.substr(0, start));
  // The quoted token may itself contain "'; expected ", so trust only a suffix that is exactly a
  // known token name, searched from the end.
  constexpr absl::string_view kExpected = "'; expected ";
  size_t expected = what.rfind(kExpected);
  if (expected != absl::string_view::npos && expected > start) {
    absl::string_view name = what.substr(expected + kExpected.size());
    for (absl::string_view known : kTokenNames) {
      if (name == known) return absl::StrCat(out, "; expected ", name);
    }
  }
  return out;
}

}  // namespace meshmq::config::internal
