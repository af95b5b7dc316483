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
  // Waits for readability and reads into the shard's buffer (see read_buffer.h).
  static constexpr bool kWaitThenRead = true;

  explicit TcpTransport(boost::asio::ip::tcp::socket socket) : socket_(std::move(socket)) {
    boost::system::error_code ec;
    socket_.non_blocking(true, ec);  // ReadSomeNow must never block the shard thread
  }

  boost::asio::ip::tcp::socket& socket() { return socket_; }

  template <typename Handler>
  void AsyncHandshake(Handler&& handler) {
    handler(boost::system::error_code());
  }
  template <typename Handler>
  void AsyncWaitReadable(Handler&& handler) {
    socket_.async_wait(boost::asio::ip::tcp::socket::wait_read, std::forward<Handler>(handler));
  }
  std::size_t ReadSomeNow(boost::asio::mutable_buffer buffer, boost::system::error_code& ec) {
    return socket_.read_some(buffer, ec);
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
