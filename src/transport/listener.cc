#include "transport/listener.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "transport/connection.h"
#include "transport/tcp_transport.h"
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

std::string DescribeRemote(const tcp::socket& socket) {
  boost::system::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  return ec ? "unknown" : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
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
      retry_timer_(broker.io(0)) {
  if (handshake_timeout_.count() <= 0) handshake_timeout_ = std::chrono::seconds(10);
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
  if (ec) return absl::UnavailableError("cannot listen on " + Describe() + ": " + ec.message());
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

void Listener::DoAccept() {
  if (stopped_) return;
  int shard_index = next_shard_;
  next_shard_ = (next_shard_ + 1) % broker_.shard_count();
  broker::Shard& shard = broker_.shard(shard_index);
  acceptor_.async_accept(shard.io(),
                         [this, &shard](const boost::system::error_code& ec, tcp::socket socket) {
                           if (stopped_) return;
                           if (ec) {
                             // Out of file descriptors and similar: wait instead of spinning on the
                             // error.
                             spdlog::warn("{}: accept failed: {}", Describe(), ec.message());
                             retry_timer_.expires_after(std::chrono::milliseconds(100));
                             retry_timer_.async_wait([this](const boost::system::error_code& e) {
                               if (!e) DoAccept();
                             });
                             return;
                           }
                           StartConnection(shard, std::move(socket));
                           DoAccept();
                         });
}

// Runs on shard 0; the connection is made and started on its own shard. The TLS context is
// taken here, at accept time, so a reload applies to every handshake that starts after it.
void Listener::StartConnection(broker::Shard& shard, tcp::socket socket) {
  auto timeout = handshake_timeout_;
  auto start = [&shard, timeout, socket = std::move(socket), kind = config_.kind, ws = config_.ws,
                ctx = secure() ? tls_.Current() : nullptr]() mutable {
    switch (kind) {
      case ListenerKind::kTcp:
        std::make_shared<Connection<TcpTransport>>(shard, timeout, std::move(socket))->Start();
        break;
      case ListenerKind::kTls:
        std::make_shared<Connection<TlsTransport>>(shard, timeout, std::move(socket),
                                                   std::move(ctx))
            ->Start();
        break;
      case ListenerKind::kWs:
        std::make_shared<Connection<WsTransport<false>>>(shard, timeout, std::move(socket),
                                                         std::move(ws))
            ->Start();
        break;
      case ListenerKind::kWss:
        std::make_shared<Connection<WsTransport<true>>>(shard, timeout, std::move(socket),
                                                        std::move(ws), std::move(ctx))
            ->Start();
        break;
    }
  };
  asio::post(shard.io(), std::move(start));
}

}  // namespace meshmq::transport
