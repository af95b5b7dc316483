#include "transport/tcp_listener.h"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "transport/tcp_connection.h"

namespace meshmq::transport {

namespace asio = boost::asio;
using asio::ip::tcp;

TcpListener::TcpListener(broker::Broker& broker, std::string host, uint16_t port)
    : broker_(broker),
      host_(std::move(host)),
      port_(port),
      acceptor_(broker.io(0)),
      retry_timer_(broker.io(0)) {}

TcpListener::~TcpListener() = default;

absl::Status TcpListener::Listen() {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host_, ec);
  if (ec) return absl::InvalidArgumentError("invalid listen address '" + host_ + "'");
  tcp::endpoint endpoint(address, port_);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError("cannot listen on " + host_ + ":" + std::to_string(port_) +
                                  ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint().port();
  return absl::OkStatus();
}

void TcpListener::Start() {
  asio::post(acceptor_.get_executor(), [this] { DoAccept(); });
}

void TcpListener::Stop() {
  asio::post(acceptor_.get_executor(), [this] {
    stopped_ = true;
    boost::system::error_code ec;
    acceptor_.close(ec);
    retry_timer_.cancel();
  });
}

void TcpListener::DoAccept() {
  if (stopped_) return;
  int shard_index = next_shard_;
  next_shard_ = (next_shard_ + 1) % broker_.shard_count();
  broker::Shard& shard = broker_.shard(shard_index);
  acceptor_.async_accept(shard.io(), [this, &shard](const boost::system::error_code& ec,
                                                    tcp::socket socket) {
    if (stopped_) return;
    if (ec) {
      // Out of file descriptors and similar: wait instead of spinning on the error.
      spdlog::warn("accept failed: {}", ec.message());
      retry_timer_.expires_after(std::chrono::milliseconds(100));
      retry_timer_.async_wait([this](const boost::system::error_code& e) {
        if (!e) DoAccept();
      });
      return;
    }
    asio::post(shard.io(), [&shard, socket = std::move(socket)]() mutable {
      std::make_shared<TcpConnection>(std::move(socket), shard)->Start();
    });
    DoAccept();
  });
}

}  // namespace meshmq::transport
