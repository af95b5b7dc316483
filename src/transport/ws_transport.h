// MQTT over WebSocket for Connection<> (RFC 6455; MQTT 3.1.1 and 5.0 section 6), optionally over
// TLS (wss). The handshake is: TLS (wss only), then one HTTP upgrade request on `path` offering
// the "mqtt" subprotocol. Frame payloads are handed to the broker as a plain byte stream, so
// packets split across frames or packed several to a frame decode as on TCP [MQTT-6.0.0-2]; each
// write batch goes out as one binary message.
//
// Owned by one connection; touched only on its shard thread.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/ssl.hpp>  // teardown for wss
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace meshmq::transport {

struct WsSettings {
  std::string path = "/mqtt";                     // requests for any other path get 404
  std::chrono::milliseconds close_timeout{5000};  // wait for the peer's close frame
};

// The subprotocol to answer with for a Sec-WebSocket-Protocol offer: "mqtt" when offered
// [MQTT-6.0.0-4], else "mqttv3.1" for MQTT 3.1 clients, else "" (none; answered without one).
std::string SelectSubprotocol(std::string_view offered);

template <bool kSecure>
class WsTransport {
 public:
  using Next = std::conditional_t<kSecure, boost::asio::ssl::stream<boost::asio::ip::tcp::socket>,
                                  boost::asio::ip::tcp::socket>;
  static constexpr const char* kName = kSecure ? "wss" : "ws";

  WsTransport(boost::asio::ip::tcp::socket socket, WsSettings settings) requires(!kSecure)
      : settings_(std::move(settings)), ws_(std::move(socket)) {}
  WsTransport(boost::asio::ip::tcp::socket socket, WsSettings settings,
              std::shared_ptr<boost::asio::ssl::context> ctx) requires(kSecure)
      : settings_(std::move(settings)), ctx_(std::move(ctx)), ws_(std::move(socket), *ctx_) {}

  boost::asio::ip::tcp::socket& socket() { return boost::beast::get_lowest_layer(ws_); }

  void AsyncHandshake(std::function<void(boost::system::error_code)> handler);

  // A text frame closes the connection [MQTT-6.0.0-1].
  template <typename Handler>
  void AsyncReadSome(boost::asio::mutable_buffer buffer, Handler&& handler) {
    ws_.async_read_some(buffer, [this, handler = std::forward<Handler>(handler)](
                                    boost::system::error_code ec, std::size_t n) mutable {
      if (!ec && ws_.got_text()) {
        handler(make_error_code(boost::beast::websocket::error::bad_data_frame), 0);
        return;
      }
      handler(ec, n);
    });
  }
  template <typename Handler>
  void AsyncWrite(const std::vector<boost::asio::const_buffer>& buffers, Handler&& handler) {
    ws_.async_write(buffers, std::forward<Handler>(handler));
  }
  template <typename Handler>
  void AsyncClose(Handler&& handler) {
    if (!ws_.is_open()) {
      handler();
      return;
    }
    ws_.async_close(boost::beast::websocket::close_code::normal,
                    [handler = std::forward<Handler>(handler)](boost::system::error_code) mutable {
                      handler();
                    });
  }

 private:
  void ReadRequest();
  void OnRequest(boost::system::error_code ec);
  // Answers a request that is not a WebSocket upgrade on our path, then fails the handshake.
  void Reject(unsigned status);
  void Finish(boost::system::error_code ec);

  WsSettings settings_;
  std::shared_ptr<boost::asio::ssl::context> ctx_;  // wss: outlives ws_
  boost::beast::websocket::stream<Next> ws_;
  // Handshake state, released once it completed.
  std::function<void(boost::system::error_code)> handshake_done_;
  std::unique_ptr<boost::beast::flat_buffer> buffer_;
  std::unique_ptr<boost::beast::http::request_parser<boost::beast::http::empty_body>> parser_;
};

extern template class WsTransport<false>;
extern template class WsTransport<true>;

}  // namespace meshmq::transport
