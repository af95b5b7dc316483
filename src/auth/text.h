// Small string helpers on std::string_view. Debian's Abseil 20220623 is built with its own
// absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW 0), so absl::StrSplit and friends do not
// accept std::string_view; this module's API uses std::string_view and adapts here.
#pragma once

#include <charconv>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"

namespace meshmq::auth {

inline absl::string_view A(std::string_view s) { return absl::string_view(s.data(), s.size()); }

inline std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    const size_t at = text.find(sep);
    out.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return out;
    text.remove_prefix(at + 1);
  }
}

inline bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

inline std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Next whitespace-separated token of `*rest`, consuming it; empty when none is left.
inline std::string_view NextToken(std::string_view* rest) {
  std::string_view s = Trim(*rest);
  size_t end = 0;
  while (end < s.size() && !IsSpace(s[end])) ++end;
  *rest = s.substr(end);
  return s.substr(0, end);
}

inline bool ParseInt(std::string_view s, int* out) {
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size() && !s.empty();
}

}  // namespace meshmq::auth
