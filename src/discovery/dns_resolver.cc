#include "discovery/dns_resolver.h"

#include <arpa/inet.h>
#include <ares.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "discovery/peer_set.h"

namespace meshmq::discovery {
namespace {

// The channel is never driven longer than this without checking `stop`, so Stop() is prompt.
constexpr int kMaxPollMs = 20;

void InitAresOnce() {
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

// State shared by the callbacks of one lookup; lives on ResolveOnce's stack and outlives the
// channel (callbacks also fire from ares_destroy with ARES_EDESTRUCTION).
struct Lookup {
  ares_channel channel = nullptr;
  const std::atomic<bool>* stop = nullptr;
  int pending = 0;       // queries whose callback has not run yet
  PeerSet peers;
  absl::Status failure;  // first failure that is not an authoritative "no records"
  bool stopped() const { return stop != nullptr && stop->load(); }
  void Fail(absl::Status s) {
    if (failure.ok()) failure = std::move(s);
  }
};

struct AddrQuery {
  Lookup* lookup;
  std::string host;
  uint16_t port;
};

std::string AddressToString(const sockaddr* addr) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, buf, sizeof(buf));
  } else if (addr->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, buf, sizeof(buf));
  }
  return buf;
}

void OnAddrInfo(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
  auto* q = static_cast<AddrQuery*>(arg);
  Lookup* lookup = q->lookup;
  --lookup->pending;
  if (status == ARES_SUCCESS && result != nullptr) {
    for (ares_addrinfo_node* n = result->nodes; n != nullptr; n = n->ai_next) {
      std::string host = AddressToString(n->ai_addr);
      if (!host.empty()) lookup->peers.push_back({std::move(host), q->port});
    }
  } else {
    absl::Status s = AresStatusToStatus(status, "A/AAAA " + q->host);
    // A target that authoritatively does not exist is simply not a peer.
    if (!absl::IsNotFound(s)) lookup->Fail(std::move(s));
  }
  if (result != nullptr) ares_freeaddrinfo(result);
  delete q;
}

void StartAddrQuery(Lookup& lookup, const std::string& host, uint16_t port) {
  ares_addrinfo_hints hints = {};
  hints.ai_family = AF_UNSPEC;   // A and AAAA
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = ARES_AI_NOSORT;  // we sort ourselves; RFC 6724 sorting would connect() probes
  ++lookup.pending;
  ares_getaddrinfo(lookup.channel, host.c_str(), nullptr, &hints, OnAddrInfo,
                   new AddrQuery{&lookup, host, port});
}

void OnSrv(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
  auto* lookup = static_cast<Lookup*>(arg);
  --lookup->pending;
  ares_srv_reply* srv = nullptr;
  if (status == ARES_SUCCESS) status = ares_parse_srv_reply(abuf, alen, &srv);
  if (status != ARES_SUCCESS) {
    lookup->Fail(AresStatusToStatus(status, "SRV"));
    return;
  }
  // Resolving targets from inside a callback is allowed by c-ares; skip it once stopping.
  for (ares_srv_reply* r = srv; r != nullptr && !lookup->stopped(); r = r->next) {
    StartAddrQuery(*lookup, r->host, r->port);
  }
  ares_free_data(srv);
}

// Runs the channel until every query has called back or `stop` is set. poll(), not select():
// the broker holds far more than FD_SETSIZE sockets, so c-ares' fds may be numbered above 1024.
void Drive(Lookup& lookup) {
  while (lookup.pending > 0) {
    if (lookup.stopped()) {
      ares_cancel(lookup.channel);  // callbacks run now with ARES_ECANCELLED
      return;
    }
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    const int bits = ares_getsock(lookup.channel, socks, ARES_GETSOCK_MAXNUM);
    pollfd fds[ARES_GETSOCK_MAXNUM];
    nfds_t nfds = 0;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      short events = 0;
      if (ARES_GETSOCK_READABLE(bits, i)) events |= POLLIN;
      if (ARES_GETSOCK_WRITABLE(bits, i)) events |= POLLOUT;
      if (events != 0) fds[nfds++] = {socks[i], events, 0};
    }
    timeval max_tv = {0, kMaxPollMs * 1000};
    timeval buf;
    // Returns &max_tv (leaving buf unset) when c-ares has nothing sooner.
    const timeval* tv = ares_timeout(lookup.channel, &max_tv, &buf);
    const int ms = static_cast<int>(tv->tv_sec * 1000 + tv->tv_usec / 1000);
    const int n = poll(fds, nfds, ms);
    if (n < 0 && errno != EINTR) {
      lookup.Fail(absl::UnavailableError(absl::StrCat("poll: ", std::strerror(errno))));
      ares_cancel(lookup.channel);
      return;
    }
    if (n <= 0) {
      ares_process_fd(lookup.channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts only
      continue;
    }
    for (nfds_t i = 0; i < nfds; ++i) {
      const short ev = fds[i].revents;
      if (ev == 0) continue;
      ares_process_fd(lookup.channel, (ev & (POLLIN | POLLERR | POLLHUP)) ? fds[i].fd : ARES_SOCKET_BAD,
                      (ev & POLLOUT) ? fds[i].fd : ARES_SOCKET_BAD);
    }
  }
}

absl::Status InitChannel(const DnsOptions& options, ares_channel* channel) {
  ares_options opts = {};
  opts.timeout = kTryTimeoutMs;  // milliseconds with ARES_OPT_TIMEOUTMS
  opts.tries = kTries;
  char lookups[] = "b";  // DNS only: peers come from DNS, never from this pod's /etc/hosts
  opts.lookups = lookups;
  int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS;
  if (!options.server.empty()) {
    // A server given explicitly answers for the name as written: resolv.conf search domains
    // belong to the system resolver (and a REFUSED answer for a search candidate would end
    // the whole search).
    opts.flags = ARES_FLAG_NOSEARCH;
    mask |= ARES_OPT_FLAGS;
  }
  int rc = ares_init_options(channel, &opts, mask);
  if (rc != ARES_SUCCESS) {
    return absl::UnavailableError(absl::StrCat("ares_init_options: ", ares_strerror(rc)));
  }
  if (!options.server.empty()) {
    rc = ares_set_servers_ports_csv(*channel, options.server.c_str());
    if (rc != ARES_SUCCESS) {
      ares_destroy(*channel);
      return absl::InvalidArgumentError(
          absl::StrCat("DNS server '", options.server, "': ", ares_strerror(rc)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status AresStatusToStatus(int ares_status, const std::string& what) {
  const std::string msg = what + ": " + ares_strerror(ares_status);
  switch (ares_status) {
    case ARES_SUCCESS:
      return absl::OkStatus();
    case ARES_ENOTFOUND:  // NXDOMAIN
    case ARES_ENODATA:    // the name exists but has no records of this type (NODATA)
      return absl::NotFoundError(msg);
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION:
      return absl::CancelledError(msg);
    default:  // ETIMEOUT, ESERVFAIL, EREFUSED, ECONNREFUSED, EBADRESP, ENOMEM, ...
      return absl::UnavailableError(msg);
  }
}

absl::StatusOr<PeerSet> ResolveOnce(const DnsOptions& options) {
  return ResolveOnce(options, nullptr);
}

absl::StatusOr<PeerSet> ResolveOnce(const DnsOptions& options, const std::atomic<bool>* stop) {
  if (options.name.empty()) return absl::InvalidArgumentError("DNS discovery: empty name");
  InitAresOnce();
  Lookup lookup;
  lookup.stop = stop;
  if (absl::Status s = InitChannel(options, &lookup.channel); !s.ok()) return s;
  if (options.use_srv) {
    ++lookup.pending;
    ares_search(lookup.channel, options.name.c_str(), /*class IN*/ 1, /*type SRV*/ 33, OnSrv,
                &lookup);
  } else {
    StartAddrQuery(lookup, options.name, options.peer_port);
  }
  Drive(lookup);
  ares_destroy(lookup.channel);  // before `lookup` goes away: it may still call back
  if (lookup.stopped()) return absl::CancelledError("DNS discovery: stopped");
  if (!lookup.failure.ok()) return lookup.failure;
  if (lookup.peers.empty()) {
    return absl::NotFoundError(absl::StrCat(options.name, ": no ",
                                            options.use_srv ? "SRV targets" : "addresses"));
  }
  NormalizePeers(lookup.peers);
  return std::move(lookup.peers);
}

}  // namespace meshmq::discovery
