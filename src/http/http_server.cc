#include "http/http_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <set>
#include <utility>

namespace meshmq::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

// Everything that lives on the HTTP thread.
class HttpServer::Impl {
 public:
  Impl(const HttpServerOptions& options, AdminApi& api)
      : options_(options), api_(api), acceptor_(io_) {}

  absl::Status Bind();
  void Run() { io_.run(); }
  void Close();  // on the HTTP thread
  asio::io_context& io() { return io_; }
  uint16_t port() const { return port_; }
  void StartAccepting() { asio::co_spawn(io_, Accept(), asio::detached); }
  // After the HTTP thread has ended: waits for handlers still running (bounded by their own
  // timeouts).
  void JoinHandlers() { handlers_.join(); }

 private:
  asio::awaitable<void> Accept();
  asio::awaitable<void> Serve(beast::tcp_stream stream);
  HttpResponse Dispatch(const bhttp::request<bhttp::string_body>& request);
  // Dispatch on the handler pool; completes with the response on the handler's executor (the
  // HTTP thread).
  template <typename Token>
  auto AsyncDispatch(bhttp::request<bhttp::string_body> request, Token&& token) {
    auto run = [this](auto handler, bhttp::request<bhttp::string_body> req) {
      auto home = asio::get_associated_executor(handler, io_.get_executor());
      asio::post(handlers_, [this, home, handler = std::move(handler),
                             req = std::move(req)]() mutable {
        HttpResponse response = Dispatch(req);
        asio::post(home, [handler = std::move(handler), response = std::move(response)]() mutable {
          std::move(handler)(std::move(response));
        });
      });
    };
    return asio::async_initiate<Token, void(HttpResponse)>(run, token, std::move(request));
  }

  const HttpServerOptions& options_;
  AdminApi& api_;
  asio::io_context io_{1};
  // Handlers run here, not on the HTTP thread: they may wait for the shards or for peers' HTTP
  // APIs (cluster-wide views), and two nodes fanning out to each other at the same moment must
  // still be able to answer each other's calls.
  asio::thread_pool handlers_{4};
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  bool closed_ = false;
  std::set<beast::tcp_stream*> streams_;  // open connections, closed by Close()
};

absl::Status HttpServer::Impl::Bind() {
  std::string where = options_.host + ":" + std::to_string(options_.port);
  boost::system::error_code ec;
  tcp::resolver resolver(io_);
  auto results = resolver.resolve(options_.host, std::to_string(options_.port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return absl::InvalidArgumentError("http: cannot resolve listen address " + where + ": " +
                                      ec.message());
  }
  tcp::endpoint endpoint = results.begin()->endpoint();
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return absl::UnavailableError("http: cannot listen on " + where + ": " + ec.message());
  port_ = acceptor_.local_endpoint().port();
  return absl::OkStatus();
}

void HttpServer::Impl::Close() {
  closed_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  for (beast::tcp_stream* s : streams_) s->socket().close(ec);
}

asio::awaitable<void> HttpServer::Impl::Accept() {
  while (!closed_) {
    boost::system::error_code ec;
    tcp::socket socket =
        co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (closed_) co_return;
    if (ec) {
      // Out of descriptors and the like: back off instead of spinning on the error.
      spdlog::warn("http: accept failed: {}", ec.message());
      asio::steady_timer timer(io_, std::chrono::milliseconds(100));
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    if (streams_.size() >= options_.max_connections) {
      spdlog::debug("http: {} connections open, refusing another", streams_.size());
      socket.close(ec);
      continue;
    }
    asio::co_spawn(io_, Serve(beast::tcp_stream(std::move(socket))), asio::detached);
  }
}

// GCC 12 reports -Wmismatched-new-delete for Boost 1.74's awaitable frame of this coroutine once
// it awaits AsyncDispatch (a false positive: the frame's own operator new/delete pair is used).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
asio::awaitable<void> HttpServer::Impl::Serve(beast::tcp_stream stream) {
  streams_.insert(&stream);
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  bool fresh = true;
  while (!closed_) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(options_.max_body_bytes);
    parser.header_limit(static_cast<uint32_t>(options_.max_header_bytes));
    stream.expires_after(fresh ? options_.read_timeout : options_.idle_timeout);
    fresh = false;
    co_await bhttp::async_read(stream, buffer, parser,
                               asio::redirect_error(asio::use_awaitable, ec));
    HttpResponse response;
    bool keep_alive = false;
    if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit) {
      response = ErrorResponse(413, "request too large");
    } else if (ec &&
               ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category() &&
               ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      response = ErrorResponse(400, "malformed HTTP request");
    } else if (ec) {
      break;  // closed, reset or timed out: nothing to answer
    } else {
      keep_alive = parser.get().keep_alive();
      response = co_await AsyncDispatch(parser.release(), asio::use_awaitable);
    }
    bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(response.status), 11};
    out.set(bhttp::field::server, "meshmq");
    out.set(bhttp::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) out.set(name, value);
    out.body() = std::move(response.body);
    out.keep_alive(keep_alive);
    out.prepare_payload();
    stream.expires_after(options_.write_timeout);
    co_await bhttp::async_write(stream, out, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !keep_alive) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  streams_.erase(&stream);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

HttpResponse HttpServer::Impl::Dispatch(const bhttp::request<bhttp::string_body>& request) {
  HttpRequest req;
  req.method = std::string(request.method_string());
  req.target = std::string(request.target());
  req.authorization = std::string(request[bhttp::field::authorization]);
  req.body = request.body();
  // Control plane: a bug in one handler must cost one 500, not the endpoint.
  try {
    return api_.Handle(req);
  } catch (const std::exception& e) {
    spdlog::error("http: {} {} failed: {}", req.method, req.target, e.what());
    return ErrorResponse(500, "internal error");
  }
}

HttpServer::HttpServer(HttpServerOptions options, std::unique_ptr<AdminBackend> backend)
    : options_(std::move(options)),
      backend_(std::move(backend)),
      api_(*backend_, options_.api),
      impl_(std::make_unique<Impl>(options_, api_)) {}

HttpServer::~HttpServer() { Stop(); }

absl::Status HttpServer::Start() {
  if (absl::Status s = impl_->Bind(); !s.ok()) return s;
  port_ = impl_->port();
  impl_->StartAccepting();
  thread_ = std::thread([impl = impl_.get()] { impl->Run(); });
  spdlog::info("http: serving /metrics, /healthz, /readyz and /api/v1 on {}:{}{}", options_.host,
               port(), options_.api.api_token.empty() ? "" : " (admin API needs a token)");
  return absl::OkStatus();
}

void HttpServer::Stop() {
  if (!thread_.joinable()) return;
  asio::post(impl_->io(), [impl = impl_.get()] { impl->Close(); });
  // Once the acceptor and sockets are closed the coroutines finish and run() returns; a handler
  // still waiting on the broker delays this by at most the backend's timeout.
  thread_.join();
  impl_->JoinHandlers();
}

}  // namespace meshmq::http
