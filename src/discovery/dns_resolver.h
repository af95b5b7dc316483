// One DNS lookup of a DnsOptions name with c-ares, blocking the calling thread (at most about
// kTryTimeoutMs * (1 + 2) per query with one server). Safe to call from several threads at
// once: every call owns its own c-ares channel.
#pragma once

#include <atomic>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "discovery/peer_source.h"

namespace meshmq::discovery {

inline constexpr int kTryTimeoutMs = 1000;  // first try; c-ares doubles it for the second
inline constexpr int kTries = 2;

// Resolves `options.name` (A + AAAA, or SRV when use_srv) and returns the normalized peer set.
// The status code carries the failure policy (docs/discovery.md):
//   OK              - an answer with at least one address.
//   NotFound        - an authoritative "no such records" (NXDOMAIN or NODATA): no peers exist.
//   Unavailable     - no answer (timeout, SERVFAIL, REFUSED, connection refused, bad reply):
//                     the set is unknown and the caller should keep what it had.
//   InvalidArgument - empty name or unusable `server`.
//   Cancelled       - `stop` became true while waiting.
absl::StatusOr<PeerSet> ResolveOnce(const DnsOptions& options);
absl::StatusOr<PeerSet> ResolveOnce(const DnsOptions& options, const std::atomic<bool>* stop);

// Maps a c-ares status to the codes above; `what` names the query in the message.
absl::Status AresStatusToStatus(int ares_status, const std::string& what);

}  // namespace meshmq::discovery
