// Canonical form and printing of peer sets. Pure functions, safe on any thread.
#pragma once

#include <string>

#include "discovery/peer_source.h"

namespace meshmq::discovery {

// Sorts by (host, port) and removes duplicates, so two sets compare equal with operator==
// exactly when they hold the same peers.
void NormalizePeers(PeerSet& peers);

// "host:port", IPv6 hosts in brackets. (config::HostPort::ToString lives in meshmq_config, which
// this module does not link; discovery only needs printing for its logs.)
std::string FormatPeer(const config::HostPort& peer);
std::string FormatPeers(const PeerSet& peers);  // "a:1,b:2" or "(none)"

}  // namespace meshmq::discovery
