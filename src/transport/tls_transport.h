// TLS over TCP for Connection<>: the TLS handshake is the connection's handshake. Holds the TLS
// context it started with, so a certificate reload never pulls it from under a live connection.
//
// Owned by one connection; touched only on its shard thread.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <memory>
#include <utility>
#include <vector>

namespace meshmq::transport {

// The TLS stream and the context it was made from; the context outlives the stream.
class TlsStream {
 public:
  using Stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

  TlsStream(boost::asio::ip::tcp::socket socket, std::shared_ptr<boost::asio::ssl::context> ctx)
      : ctx_(std::move(ctx)), stream_(std::move(socket), *ctx_) {}

  Stream& stream() { return stream_; }
  boost::asio::ip::tcp::socket& socket() { return stream_.next_layer(); }

  template <typename Handler>
  void AsyncHandshake(Handler&& handler) {
    stream_.async_handshake(boost::asio::ssl::stream_base::server, std::forward<Handler>(handler));
  }

 private:
  std::shared_ptr<boost::asio::ssl::context> ctx_;
  Stream stream_;
};

class TlsTransport {
 public:
  static constexpr const char* kName = "tls";

  TlsTransport(boost::asio::ip::tcp::socket socket, std::shared_ptr<boost::asio::ssl::context> ctx)
      : tls_(std::move(socket), std::move(ctx)) {}

  boost::asio::ip::tcp::socket& socket() { return tls_.socket(); }

  template <typename Handler>
  void AsyncHandshake(Handler&& handler) {
    tls_.AsyncHandshake(std::forward<Handler>(handler));
  }
  template <typename Handler>
  void AsyncReadSome(boost::asio::mutable_buffer buffer, Handler&& handler) {
    tls_.stream().async_read_some(buffer, std::forward<Handler>(handler));
  }
  // Asio packs small buffers of the batch into one TLS record (ssl write_op linearises up to
  // 8 KiB), so gathered writes stay cheap here too.
  template <typename Handler>
  void AsyncWrite(const std::vector<boost::asio::const_buffer>& buffers, Handler&& handler) {
    boost::asio::async_write(tls_.stream(), buffers, std::forward<Handler>(handler));
  }
  // No close_notify exchange: it would wait on the peer while a read is pending, and MQTT needs
  // none (the data was flushed and DISCONNECT, if any, was sent).
  template <typename Handler>
  void AsyncClose(Handler&& handler) {
    boost::system::error_code ec;
    socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    handler();
  }

 private:
  TlsStream tls_;
};

}  // namespace meshmq::transport
