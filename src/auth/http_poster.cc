#include "auth/http_poster.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace meshmq::auth {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

std::optional<HttpUrl> HttpUrl::Parse(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return std::nullopt;
  url.remove_prefix(kScheme.size());
  HttpUrl out;
  const size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  if (slash != std::string_view::npos) out.target = std::string(url.substr(slash));
  if (authority.starts_with('[')) {  // [v6]:port
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (authority.starts_with(':')) out.port = std::string(authority.substr(1));
    else if (!authority.empty()) return std::nullopt;
  } else {
    const size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) out.port = std::string(authority.substr(colon + 1));
  }
  if (out.host.empty() || out.port.empty()) return std::nullopt;
  for (char c : out.port) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return out;
}

HttpPoster::HttpPoster(asio::io_context& io, HttpUrl url, std::chrono::milliseconds timeout,
                       size_t max_idle)
    : io_(io), url_(std::move(url)), timeout_(timeout), max_idle_(max_idle) {}

HttpPoster::~HttpPoster() = default;

#if defined(BOOST_ASIO_HAS_CO_AWAIT)
void HttpPoster::Post(std::string body, Done done) {
  asio::co_spawn(io_, Run(std::move(body), std::move(done)), asio::detached);
}

asio::awaitable<std::unique_ptr<HttpPoster::Stream>> HttpPoster::Connect(
    boost::system::error_code& ec) {
  tcp::resolver resolver(io_);
  auto results = co_await resolver.async_resolve(url_.host, url_.port,
                                                 asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return nullptr;
  auto stream = std::make_unique<Stream>(io_);
  stream->expires_after(timeout_);
  co_await stream->async_connect(results, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return nullptr;
  stream->socket().set_option(tcp::no_delay(true));
  co_return stream;
}

asio::awaitable<absl::StatusOr<HttpPoster::Reply>> HttpPoster::Exchange(Stream& stream,
                                                                        const std::string& body,
                                                                        bool* keep_alive) {
  http::request<http::string_body> req{http::verb::post, url_.target, 11};
  req.set(http::field::host, url_.host);
  req.set(http::field::content_type, "application/json");
  req.set(http::field::user_agent, "meshmq");
  req.keep_alive(true);
  req.body() = body;
  req.prepare_payload();
  boost::system::error_code ec;
  stream.expires_after(timeout_);
  co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  if (!ec) {
    co_await http::async_read(stream, buffer, res, asio::redirect_error(asio::use_awaitable, ec));
  }
  if (ec == beast::error::timeout) co_return absl::DeadlineExceededError("timed out");
  if (ec) co_return absl::UnavailableError(ec.message());
  *keep_alive = res.keep_alive();
  co_return Reply{static_cast<int>(res.result_int()), std::move(res.body())};
}

asio::awaitable<void> HttpPoster::Run(std::string body, Done done) {
  absl::StatusOr<Reply> reply = absl::UnavailableError("not sent");
  // A reused connection may have been closed by the server meanwhile: then one fresh try.
  // A timeout is final (the budget is spent).
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<Stream> stream;
    const bool reused = !idle_.empty();
    if (reused) {
      stream = std::move(idle_.back());
      idle_.pop_back();
    } else {
      boost::system::error_code ec;
      stream = co_await Connect(ec);
      if (!stream) {
        reply = ec == beast::error::timeout ? absl::DeadlineExceededError("connect timed out")
                                            : absl::UnavailableError(ec.message());
        break;
      }
    }
    bool keep_alive = false;
    reply = co_await Exchange(*stream, body, &keep_alive);
    if (reply.ok()) {
      if (keep_alive && idle_.size() < max_idle_) {
        stream->expires_never();
        idle_.push_back(std::move(stream));
      }
      break;
    }
    if (!reused || absl::IsDeadlineExceeded(reply.status())) break;
  }
  done(std::move(reply));
}

#else
// Boost 1.74 enables co_await for clang only with libc++: the clang fuzz build (libstdc++) gets
// a poster that fails every request, which the backend treats as a service failure.
void HttpPoster::Post(std::string body, Done done) {
  asio::post(io_, [done = std::move(done)] {
    done(absl::UnavailableError("HTTP client not available: built without C++ coroutines"));
  });
}
#endif  // BOOST_ASIO_HAS_CO_AWAIT

}  // namespace meshmq::auth
