#include "http/peer_client.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace meshmq::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

constexpr size_t kMaxAnswerBytes = 8 << 20;

asio::awaitable<void> Call(const PeerCall& call, PeerAnswer& answer,
                           std::chrono::milliseconds timeout) {
  auto ex = co_await asio::this_coro::executor;
  boost::system::error_code ec;
  size_t colon = call.address.rfind(':');
  if (colon == std::string::npos) {
    answer.error = "bad address " + call.address;
    co_return;
  }
  std::string host = call.address.substr(0, colon), port = call.address.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  tcp::resolver resolver(ex);
  auto endpoints = co_await resolver.async_resolve(host, port,
                                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    answer.error = "cannot resolve " + call.address + ": " + ec.message();
    co_return;
  }
  beast::tcp_stream stream(ex);
  stream.expires_after(timeout);
  co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  bhttp::request<bhttp::string_body> request{bhttp::string_to_verb(call.method), call.target, 11};
  request.set(bhttp::field::host, call.address);
  request.set(bhttp::field::user_agent, "meshmq-peer");
  if (!call.authorization.empty()) request.set(bhttp::field::authorization, call.authorization);
  if (!call.body.empty()) request.set(bhttp::field::content_type, "application/json");
  request.body() = call.body;
  request.prepare_payload();
  if (!ec) co_await bhttp::async_write(stream, request, asio::redirect_error(asio::use_awaitable, ec));
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(kMaxAnswerBytes);
  if (!ec) co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    answer.error = ec == beast::error::timeout ? "timed out" : ec.message();
    co_return;
  }
  answer.error.clear();
  answer.status = static_cast<int>(parser.get().result_int());
  answer.content_type = std::string(parser.get()[bhttp::field::content_type]);
  answer.body = std::move(parser.get().body());
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
}

}  // namespace

std::vector<PeerAnswer> CallPeers(const std::vector<PeerCall>& calls,
                                  std::chrono::milliseconds timeout) {
  std::vector<PeerAnswer> answers(calls.size());
  asio::io_context io(1);
  for (size_t i = 0; i < calls.size(); ++i) {
    answers[i].node_id = calls[i].node_id;
    answers[i].error = "timed out";  // replaced when the call finishes
    asio::co_spawn(io, Call(calls[i], answers[i], timeout), [&answers, i](std::exception_ptr e) {
      if (e) answers[i].error = "internal error";
    });
  }
  // Each stream has its own deadline; this bounds the resolver too.
  io.run_for(timeout + std::chrono::milliseconds(100));
  return answers;
}

}  // namespace meshmq::http
