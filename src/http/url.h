// Request-target helpers for the admin API: percent-decoding, query strings, base64.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace meshmq::http {

// Decodes %XX escapes; '+' becomes a space only when `plus_is_space` (query strings). Returns
// nullopt for a malformed escape.
std::optional<std::string> UrlDecode(std::string_view in, bool plus_is_space);

// Percent-encodes everything but RFC 3986 unreserved characters (for a query value or a path
// segment).
std::string UrlEncode(std::string_view in);

struct Target {
  std::string path;  // still percent-encoded, so "%2F" inside a segment stays distinguishable
  std::map<std::string, std::string> query;  // decoded; the last of repeated keys wins
};
// Splits "/a/b?x=1&y=2". Returns nullopt when the query has a malformed escape.
std::optional<Target> ParseTarget(std::string_view target);

std::string Base64Encode(std::string_view in);
// Standard alphabet with padding (whitespace not allowed). nullopt when malformed.
std::optional<std::string> Base64Decode(std::string_view in);

}  // namespace meshmq::http
