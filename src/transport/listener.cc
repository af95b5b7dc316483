#include "transport/listener.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>

#include "transport/connection.h"
#include "transport/tcp_connection.h"
#include "transport/tls_transport.h"

namespace meshmq::transport {

namespace asio = boost::asio;
using asio::ip::tcp;

const char* ListenerKindName(ListenerKind kind) {
  switch (kind) {
    case ListenerKind::kTcp:
      return "tcp";
    case ListenerKind::kTls:
      return "tls";
    case ListenerKind::kWs:
      return "ws";
    case ListenerKind::kWss:
      return "wss";
  }
  return "?";
}

namespace {

std::string DescribeEndpoint(const tcp::endpoint& endpoint) {
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

// An accepted descriptor on its way to its shard: closed if the task never runs (the broker
// stopped first).
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&&) = delete;
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// Descriptors accepted per readiness of the listening socket before other work gets a turn.
constexpr int kAcceptBatch = 64;

}  // namespace

std::string DescribeRemote(const tcp::socket& socket) {
  boost::system::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  return ec ? "unknown" : DescribeEndpoint(endpoint);
}

Listener::Listener(broker::Broker& broker, ListenerConfig config)
    : broker_(broker),
      config_(std::move(config)),
      port_(config_.port),
      handshake_timeout_(config_.handshake_timeout.count() > 0
                             ? config_.handshake_timeout
                             : std::chrono::milliseconds(broker.options().connect_timeout_ms)),
      tls_(config_.tls),
      acceptor_(broker.io(0)),
      retry_timer_(broker.io(0)),
      // One second's worth of connections may arrive at once.
      accept_bucket_(broker.options().max_accept_rate, broker.options().max_accept_rate) {
  if (handshake_timeout_.count() <= 0) handshake_timeout_ = std::chrono::seconds(10);
  if (config_.kind == ListenerKind::kTcp) {
    for (int i = 0; i < broker.shard_count(); ++i) {
      reactors_.push_back(std::make_unique<EpollReactor>(broker.io(i), &broker.shard(i)));
    }
  }
}

Listener::~Listener() = default;

bool Listener::secure() const {
  return config_.kind == ListenerKind::kTls || config_.kind == ListenerKind::kWss;
}

std::string Listener::Describe() const {
  return std::string(ListenerKindName(config_.kind)) + " " + config_.host + ":" +
         std::to_string(port_);
}

absl::Status Listener::Listen() {
  if (secure()) {
    if (absl::Status s = tls_.Reload(); !s.ok()) {
      return absl::Status(s.code(), Describe() + ": " + std::string(s.message()));
    }
  }
  boost::system::error_code ec;
  auto address = asio::ip::make_address(config_.host, ec);
  if (ec) return absl::InvalidArgumentError("invalid listen address '" + config_.host + "'");
  tcp::endpoint endpoint(address, port_);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  // accept4 in AcceptFds must return EAGAIN once the backlog is empty.
  if (!ec && config_.kind == ListenerKind::kTcp) acceptor_.non_blocking(true, ec);
  if (ec) return absl::UnavailableError("cannot listen on " + Describe() + ": " + ec.message());
  if (config_.kind == ListenerKind::kTcp) {
    // Receive stamps (broker/receive_time.h) on the listening socket too: the kernel turns
    // stamping on for every packet while any socket asks for it, but turns it on from a
    // workqueue, so with no other stamped socket open the first bytes of a new connection (a
    // SUBSCRIBE right after its CONNACK) could arrive unstamped. Accepted sockets inherit it.
    int one = 1;
    ::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
  }
  port_ = acceptor_.local_endpoint().port();
  return absl::OkStatus();
}

absl::Status Listener::ReloadCertificates() {
  if (!secure()) return absl::OkStatus();
  if (absl::Status s = tls_.Reload(); !s.ok()) {
    return absl::Status(s.code(), Describe() + ": " + std::string(s.message()));
  }
  spdlog::info("{}: TLS certificates reloaded", Describe());
  return absl::OkStatus();
}

void Listener::Start() {
  asio::post(acceptor_.get_executor(), [this] { DoAccept(); });
}

void Listener::Stop() {
  asio::post(acceptor_.get_executor(), [this] {
    stopped_ = true;
    boost::system::error_code ec;
    acceptor_.close(ec);
    retry_timer_.cancel();
  });
}

namespace {

// Makes a connection whose destruction gives its address slot back (when the limit is on), so
// the count is right however the connection ends.
template <typename C, typename... Args>
std::shared_ptr<C> MakeConnection(broker::AddressLimiter& limiter, std::string ip, Args&&... args) {
  if (!limiter.enabled()) return std::make_shared<C>(std::forward<Args>(args)...);
  return std::shared_ptr<C>(new C(std::forward<Args>(args)...),
                            [&limiter, ip = std::move(ip)](C* c) {
                              delete c;
                              limiter.Release(ip);
                            });
}

}  // namespace

bool Listener::AcceptAllowed() {
  if (accept_bucket_.unlimited()) return true;
  auto now = std::chrono::steady_clock::now();
  auto wait = accept_bucket_.Wait(now);
  if (wait <= std::chrono::steady_clock::duration::zero()) return true;
  // Paused: further connections wait in the kernel's listen backlog (bounded by it), costing us
  // nothing until their turn.
  broker_.shard(0).NoteOverload(broker::OverloadEvent::kAcceptPaused, Describe());
  retry_timer_.expires_after(wait);
  retry_timer_.async_wait([this](const boost::system::error_code& e) {
    if (!e) DoAccept();
  });
  return false;
}

bool Listener::AdmitIp(const std::string& ip) {
  if (broker_.address_limiter().Acquire(ip)) return true;
  // Refused before any byte is read: cheaper than a CONNACK, and the flood gets nothing.
  broker_.shard(0).NoteOverload(broker::OverloadEvent::kConnectionRefusedPerAddress, ip);
  return false;
}

bool Listener::AdmitAddress(tcp::socket& socket, std::string& ip) {
  if (!broker_.address_limiter().enabled()) return true;
  boost::system::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  ip = ec ? "unknown" : endpoint.address().to_string();
  if (AdmitIp(ip)) return true;
  socket.close(ec);
  return false;
}

void Listener::RetryAcceptLater(const std::string& why) {
  spdlog::warn("{}: accept failed: {}", Describe(), why);
  retry_timer_.expires_after(std::chrono::milliseconds(100));
  retry_timer_.async_wait([this](const boost::system::error_code& e) {
    if (!e) DoAccept();
  });
}

void Listener::AcceptFds() {
  acceptor_.async_wait(tcp::acceptor::wait_read, [this](const boost::system::error_code& ec) {
    if (stopped_) return;
    if (ec) return RetryAcceptLater(ec.message());
    for (int i = 0; i < kAcceptBatch; ++i) {
      if (i > 0 && !AcceptAllowed()) return;  // the rate-limit pause calls DoAccept
      tcp::endpoint peer;
      socklen_t len = static_cast<socklen_t>(peer.capacity());
      int fd =
          ::accept4(acceptor_.native_handle(), peer.data(), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK) break;
        // The peer gave up while queued, or a signal: try the next one.
        if (err == ECONNABORTED || err == EINTR || err == EPROTO) continue;
        return RetryAcceptLater(std::strerror(err));
      }
      peer.resize(len);
      accept_bucket_.Take(std::chrono::steady_clock::now(), 1);
      if (broker_.address_limiter().enabled() && !AdmitIp(peer.address().to_string())) {
        ::close(fd);
        continue;
      }
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      // Each read carries the kernel's receive time (broker/receive_time.h).
      ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
      StartTcp(fd, DescribeEndpoint(peer));
    }
    DoAccept();
  });
}

void Listener::StartTcp(int fd, std::string remote) {
  int shard_index = next_shard_;
  next_shard_ = (next_shard_ + 1) % broker_.shard_count();
  broker::Shard& shard = broker_.shard(shard_index);
  EpollReactor& reactor = *reactors_[shard_index];
  auto start = [&shard, &reactor, fd = UniqueFd(fd), remote = std::move(remote)]() mutable {
    if (shard.broker().stopping()) {  // the shard's clients were closed already
      ReleaseAddressSlot(shard.broker(), remote);
      return;
    }
    reactor.Add(new TcpConnection(reactor, shard, fd.release(), std::move(remote)));
  };
  asio::post(shard.io(), std::move(start));
}

void Listener::DoAccept() {
  if (stopped_) return;
  if (!AcceptAllowed()) return;
  if (config_.kind == ListenerKind::kTcp) return AcceptFds();
  int shard_index = next_shard_;
  next_shard_ = (next_shard_ + 1) % broker_.shard_count();
  broker::Shard& shard = broker_.shard(shard_index);
  acceptor_.async_accept(shard.io(),
                         [this, &shard](const boost::system::error_code& ec, tcp::socket socket) {
                           if (stopped_) return;
                           if (ec) return RetryAcceptLater(ec.message());
                           accept_bucket_.Take(std::chrono::steady_clock::now(), 1);
                           std::string ip;
                           if (AdmitAddress(socket, ip)) {
                             StartConnection(shard, std::move(socket), std::move(ip));
                           }
                           DoAccept();
                         });
}

// Runs on shard 0; the connection is made and started on its own shard. The TLS context is
// taken here, at accept time, so a reload applies to every handshake that starts after it.
void Listener::StartConnection(broker::Shard& shard, tcp::socket socket, std::string ip) {
  auto timeout = handshake_timeout_;
  auto& limiter = broker_.address_limiter();
  auto start = [&shard, &limiter, ip = std::move(ip), timeout, socket = std::move(socket),
                kind = config_.kind, ws = config_.ws,
                ctx = secure() ? tls_.Current() : nullptr]() mutable {
    switch (kind) {
      case ListenerKind::kTcp:  // never: plain TCP goes to the epoll reactor (StartTcp)
        break;
      case ListenerKind::kTls:
        MakeConnection<Connection<TlsTransport>>(limiter, std::move(ip), shard, timeout,
                                                 std::move(socket), std::move(ctx))
            ->Start();
        break;
      case ListenerKind::kWs:
        MakeConnection<Connection<WsTransport<false>>>(limiter, std::move(ip), shard, timeout,
                                                       std::move(socket), std::move(ws))
            ->Start();
        break;
      case ListenerKind::kWss:
        MakeConnection<Connection<WsTransport<true>>>(limiter, std::move(ip), shard, timeout,
                                                      std::move(socket), std::move(ws),
                                                      std::move(ctx))
            ->Start();
        break;
    }
  };
  asio::post(shard.io(), std::move(start));
}

}  // namespace meshmq::transport
