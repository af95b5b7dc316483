// An IPv4 or IPv6 address or CIDR block from the ACL ("10.0.0.0/8", "::1", "fd00::/8").
// IPv4-mapped IPv6 peers ("::ffff:10.1.2.3", as a dual-stack listener reports them) match IPv4
// ranges. Immutable after Parse; any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace meshmq::auth {

// The IP part of a peer address: "1.2.3.4:5678" -> "1.2.3.4", "[::1]:5678" -> "::1", plain IPs
// unchanged. The broker should pass the IP alone; this keeps a "host:port" string from giving
// every connection its own rate-limit entry. (An unbracketed "v6:port" cannot be told apart
// from a v6 address and is returned whole.)
std::string_view PeerIp(std::string_view address);

class AddressRange {
 public:
  // "ip" or "ip/prefix"; nullopt when either part is malformed or the prefix is too long.
  static std::optional<AddressRange> Parse(std::string_view text);

  // `address` is a peer IP as text (brackets tolerated); false when it does not parse.
  bool Contains(std::string_view address) const;

 private:
  struct Ip {
    std::array<uint8_t, 16> bytes{};
    bool v4 = false;  // bytes[0..3] hold the address
  };
  static std::optional<Ip> ParseIp(std::string_view text);

  Ip base_;
  int prefix_ = 0;  // bits
};

}  // namespace meshmq::auth
