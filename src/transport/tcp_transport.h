// Plain TCP for Connection<>: no handshake, no close handshake.
//
// Owned by one connection; touched only on its shard thread.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <utility>
#include <vector>

namespace meshmq::transport {

class TcpTransport {
 public:
  static constexpr const char* kName = "tcp";
  // Close by sending FIN and reading until the peer closes (bounded), so a DISCONNECT or CONNACK
  // written just before is not destroyed by an RST when the client still has bytes in flight.
  static constexpr bool kLingerOnClose = true;

  explicit TcpTransport(boost::asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}

  boost::asio::ip::tcp::socket& socket() { return socket_; }

  template <typename Handler>
  void AsyncHandshake(Handler&& handler) {
    handler(boost::system::error_code());
  }
  template <typename Handler>
  void AsyncReadSome(boost::asio::mutable_buffer buffer, Handler&& handler) {
    socket_.async_read_some(buffer, std::forward<Handler>(handler));
  }
  template <typename Handler>
  void AsyncWrite(const std::vector<boost::asio::const_buffer>& buffers, Handler&& handler) {
    boost::asio::async_write(socket_, buffers, std::forward<Handler>(handler));
  }
  template <typename Handler>
  void AsyncClose(Handler&& handler) {
    boost::system::error_code ec;
    socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    handler();
  }

 private:
  boost::asio::ip::tcp::socket socket_;
};

}  // namespace meshmq::transport
