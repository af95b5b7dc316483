// HostPort text form: "host:port", "[v6]:port", ":port".
#include <charconv>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "config/config.h"

namespace meshmq::config {
namespace {

absl::Status NotHostPort(const std::string& text, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not host:port (", why, ")"));
}

bool ValidHostChar(char c, bool bracketed) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  if (c == '-' || c == '.' || c == '_') return true;
  return bracketed && (c == ':' || c == '%');  // IPv6 groups and a zone id ("fe80::1%eth0")
}

}  // namespace

std::string HostPort::ToString() const {
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<HostPort> ParseHostPort(const std::string& text) {
  absl::string_view host;
  absl::string_view rest;  // ":port" after the host
  bool bracketed = false;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos) return NotHostPort(text, "missing ']'");
    host = absl::string_view(text).substr(1, close - 1);
    rest = absl::string_view(text).substr(close + 1);
    bracketed = true;
    if (host.empty()) return NotHostPort(text, "empty host");
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) return NotHostPort(text, "missing port");
    host = absl::string_view(text).substr(0, colon);
    rest = absl::string_view(text).substr(colon);
    if (host.find(':') != absl::string_view::npos) {
      return NotHostPort(text, "IPv6 hosts need brackets, e.g. [::1]:1883");
    }
  }
  if (rest.empty() || rest.front() != ':') return NotHostPort(text, "missing port");
  absl::string_view port_text = rest.substr(1);
  if (port_text.empty()) return NotHostPort(text, "missing port");
  for (char c : host) {
    if (!ValidHostChar(c, bracketed)) return NotHostPort(text, "invalid character in host");
  }
  uint64_t port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec == std::errc::invalid_argument || end != port_text.data() + port_text.size()) {
    return NotHostPort(text, "port is not a number");
  }
  if (ec == std::errc::result_out_of_range || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\": port ", port_text, " out of range [0, 65535]"));
  }
  return HostPort{host.empty() ? "0.0.0.0" : std::string(host), static_cast<uint16_t>(port)};
}

}  // namespace meshmq::config
