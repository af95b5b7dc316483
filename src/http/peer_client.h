// A small HTTP/1.1 client for the admin API's cluster-wide views: it calls the same /api/v1
// endpoints on peer nodes (their HTTP addresses come from the cluster hello) and waits for all
// answers at once, bounded by one timeout.
//
// Threads: any; CallPeers runs its own io_context on the calling thread and blocks it until every
// call has answered or the timeout passed.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace meshmq::http {

struct PeerCall {
  std::string node_id;
  std::string address;  // "host:port" of the peer's HTTP endpoint
  std::string method;   // "GET", "DELETE", "POST"
  std::string target;   // path and query, already percent-encoded
  std::string authorization;  // passed on as is, so the peer checks the caller's own token
  std::string body;
};

struct PeerAnswer {
  std::string node_id;
  int status = 0;  // 0: no HTTP answer (see error)
  std::string content_type;
  std::string body;
  std::string error;  // why there is no answer: "connection refused", "timed out", ...
};

// One answer per call, in the order of `calls`.
std::vector<PeerAnswer> CallPeers(const std::vector<PeerCall>& calls,
                                  std::chrono::milliseconds timeout);

}  // namespace meshmq::http
