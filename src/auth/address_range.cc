#include "auth/address_range.h"

#include <arpa/inet.h>

#include <cstring>
#include <string>

#include "auth/text.h"

namespace meshmq::auth {
namespace {

constexpr std::array<uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool PrefixEqual(const uint8_t* a, const uint8_t* b, int bits) {
  const int whole = bits / 8;
  if (std::memcmp(a, b, static_cast<size_t>(whole)) != 0) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

std::string_view PeerIp(std::string_view address) {
  if (address.starts_with('[')) {
    const size_t close = address.find(']');
    return close == std::string_view::npos ? address : address.substr(1, close - 1);
  }
  const size_t colon = address.find(':');
  if (colon != std::string_view::npos && address.find(':', colon + 1) == std::string_view::npos) {
    return address.substr(0, colon);  // exactly one ':': "IPv4:port"
  }
  return address;
}

std::optional<AddressRange::Ip> AddressRange::ParseIp(std::string_view text) {
  const std::string s(text);  // inet_pton needs a terminated string
  Ip ip;
  if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) {
    ip.v4 = true;
    return ip;
  }
  if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) != 1) return std::nullopt;
  if (std::memcmp(ip.bytes.data(), kV4MappedPrefix.data(), kV4MappedPrefix.size()) == 0) {
    std::memmove(ip.bytes.data(), ip.bytes.data() + 12, 4);  // ::ffff:a.b.c.d is IPv4
    std::memset(ip.bytes.data() + 4, 0, 12);
    ip.v4 = true;
  }
  return ip;
}

std::optional<AddressRange> AddressRange::Parse(std::string_view text) {
  const size_t slash = text.find('/');
  std::optional<Ip> ip = ParseIp(text.substr(0, slash));
  if (!ip) return std::nullopt;
  const int max_bits = ip->v4 ? 32 : 128;
  AddressRange range;
  range.base_ = *ip;
  range.prefix_ = max_bits;
  if (slash != std::string_view::npos && (!ParseInt(text.substr(slash + 1), &range.prefix_) ||
                                          range.prefix_ < 0 || range.prefix_ > max_bits)) {
    return std::nullopt;
  }
  return range;
}

bool AddressRange::Contains(std::string_view address) const {
  const std::optional<Ip> ip = ParseIp(PeerIp(address));
  if (!ip || ip->v4 != base_.v4) return false;
  return PrefixEqual(ip->bytes.data(), base_.bytes.data(), prefix_);
}

}  // namespace meshmq::auth
