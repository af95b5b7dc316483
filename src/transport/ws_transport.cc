#include "transport/ws_transport.h"

#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <memory>

namespace meshmq::transport {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using boost::system::error_code;

namespace {
constexpr std::size_t kMaxRequestHeader = 8192;
}

std::string SelectSubprotocol(std::string_view offered) {
  bool v31 = false;
  while (!offered.empty()) {
    std::size_t comma = offered.find(',');
    std::string_view p = offered.substr(0, comma);
    offered = comma == std::string_view::npos ? std::string_view() : offered.substr(comma + 1);
    while (!p.empty() && (p.front() == ' ' || p.front() == '\t')) p.remove_prefix(1);
    while (!p.empty() && (p.back() == ' ' || p.back() == '\t')) p.remove_suffix(1);
    if (p == "mqtt") return "mqtt";
    if (p == "mqttv3.1") v31 = true;
  }
  return v31 ? "mqttv3.1" : "";
}

template <bool kSecure>
void WsTransport<kSecure>::AsyncHandshake(std::function<void(error_code)> handler) {
  handshake_done_ = std::move(handler);
  if constexpr (kSecure) {
    ws_.next_layer().async_handshake(boost::asio::ssl::stream_base::server, [this](error_code ec) {
      if (ec) return Finish(ec);
      ReadRequest();
    });
  } else {
    ReadRequest();
  }
}

template <bool kSecure>
void WsTransport<kSecure>::ReadRequest() {
  buffer_ = std::make_unique<beast::flat_buffer>();
  parser_ = std::make_unique<http::request_parser<http::empty_body>>();
  parser_->header_limit(kMaxRequestHeader);
  http::async_read(ws_.next_layer(), *buffer_, *parser_,
                   [this](error_code ec, std::size_t) { OnRequest(ec); });
}

template <bool kSecure>
void WsTransport<kSecure>::OnRequest(error_code ec) {
  if (ec) return Finish(ec);
  const auto& req = parser_->get();
  std::string_view target(req.target().data(), req.target().size());
  if (target.substr(0, target.find('?')) != settings_.path) return Reject(404);
  if (!websocket::is_upgrade(req)) return Reject(426);
  std::string protocol =
      SelectSubprotocol(std::string_view(req[http::field::sec_websocket_protocol].data(),
                                         req[http::field::sec_websocket_protocol].size()));
  ws_.set_option(websocket::stream_base::decorator([protocol](websocket::response_type& res) {
    res.set(http::field::server, "meshmq");
    if (!protocol.empty()) res.set(http::field::sec_websocket_protocol, protocol);
  }));
  ws_.async_accept(req, [this](error_code ec) {
    if (!ec) {
      ws_.binary(true);  // [MQTT-6.0.0-1] MQTT goes in binary frames
      ws_.auto_fragment(false);
      ws_.read_message_max(0);  // the broker's decoder enforces the packet size limit
      websocket::stream_base::timeout timeout{};
      timeout.handshake_timeout = settings_.close_timeout;    // also bounds the close handshake
      timeout.idle_timeout = websocket::stream_base::none();  // MQTT keep alive does this
      timeout.keep_alive_pings = false;
      ws_.set_option(timeout);
    }
    Finish(ec);
  });
}

template <bool kSecure>
void WsTransport<kSecure>::Reject(unsigned status) {
  auto res = std::make_shared<http::response<http::string_body>>();
  res->result(status);
  res->version(11);
  res->set(http::field::server, "meshmq");
  res->set(http::field::connection, "close");
  if (status == 426) res->set(http::field::upgrade, "websocket");
  res->body() = status == 404 ? "MQTT over WebSocket is served on " + settings_.path + "\n"
                              : "WebSocket upgrade required\n";
  res->prepare_payload();
  http::async_write(ws_.next_layer(), *res, [this, res, status](error_code, std::size_t) {
    Finish(status == 404 ? error_code(http::error::bad_target)
                         : error_code(websocket::error::no_upgrade));
  });
}

template <bool kSecure>
void WsTransport<kSecure>::Finish(error_code ec) {
  buffer_.reset();
  parser_.reset();
  auto done = std::move(handshake_done_);
  handshake_done_ = nullptr;
  done(ec);
}

template class WsTransport<false>;
template class WsTransport<true>;

}  // namespace meshmq::transport
