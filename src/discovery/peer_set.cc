#include "discovery/peer_set.h"

#include <algorithm>
#include <tuple>

namespace meshmq::discovery {

void NormalizePeers(PeerSet& peers) {
  auto key = [](const config::HostPort& p) { return std::tie(p.host, p.port); };
  std::sort(peers.begin(), peers.end(),
            [&](const config::HostPort& a, const config::HostPort& b) { return key(a) < key(b); });
  peers.erase(std::unique(peers.begin(), peers.end()), peers.end());
}

std::string FormatPeer(const config::HostPort& peer) {
  const bool v6 = peer.host.find(':') != std::string::npos;
  std::string out = v6 ? "[" + peer.host + "]" : peer.host;
  return out + ":" + std::to_string(peer.port);
}

std::string FormatPeers(const PeerSet& peers) {
  if (peers.empty()) return "(none)";
  std::string out;
  for (const auto& p : peers) {
    if (!out.empty()) out += ',';
    out += FormatPeer(p);
  }
  return out;
}

}  // namespace meshmq::discovery
