// Discovery: turns a configuration (static list, DNS name) into the current set of peer
// addresses, and nothing else. Deciding who a peer is (node id, self) is the cluster's job.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"

namespace meshmq::discovery {

using PeerSet = std::vector<config::HostPort>;  // sorted, no duplicates

// Started once; calls `on_change` from its own thread with the full peer set each time the set
// changes (and once after the first lookup, even if empty). Stop() joins that thread.
class PeerSource {
 public:
  virtual ~PeerSource() = default;
  virtual void Start(std::function<void(const PeerSet&)> on_change) = 0;
  virtual void Stop() = 0;
  // Lookups done and failed so far (for metrics).
  virtual uint64_t lookups() const = 0;
  virtual uint64_t lookup_errors() const = 0;
};

std::unique_ptr<PeerSource> MakeStaticSource(PeerSet peers);

struct DnsOptions {
  std::string name;        // e.g. meshmq-headless.default.svc.cluster.local
  std::string server;      // "host:port" of a DNS server; empty = system resolver (resolv.conf)
  uint16_t peer_port = 8081;  // port given to every A/AAAA address found
  bool use_srv = false;    // resolve SRV records of `name` instead (target host + port)
  int refresh_ms = 5000;   // re-resolve period
};
std::unique_ptr<PeerSource> MakeDnsSource(DnsOptions options);

}  // namespace meshmq::discovery
