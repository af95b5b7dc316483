// A small HTTP/1.1 client for the auth backend: POSTs a JSON body to one URL and hands back the
// status and body. Keeps idle keep-alive connections for reuse (bounded), so a busy broker does
// not open a TCP connection per decision.
//
// Threads: lives on one io_context (the HTTP auth backend's thread); Post() and the completion
// run on that thread only.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "absl/status/statusor.h"

namespace meshmq::auth {

struct HttpUrl {
  std::string host;
  std::string port = "80";
  std::string target = "/";
  // "http://host[:port][/path]"; nullopt for anything else (https is not supported: run the
  // auth service on loopback or behind a local proxy).
  static std::optional<HttpUrl> Parse(std::string_view url);
};

class HttpPoster {
 public:
  struct Reply {
    int status = 0;
    std::string body;
  };
  // DeadlineExceeded on timeout, Unavailable on connection/protocol errors.
  using Done = std::function<void(absl::StatusOr<Reply>)>;

  HttpPoster(boost::asio::io_context& io, HttpUrl url, std::chrono::milliseconds timeout,
             size_t max_idle);
  ~HttpPoster();

  void Post(std::string body, Done done);

 private:
  using Stream = boost::beast::tcp_stream;
#if defined(BOOST_ASIO_HAS_CO_AWAIT)
  boost::asio::awaitable<void> Run(std::string body, Done done);
  boost::asio::awaitable<absl::StatusOr<Reply>> Exchange(Stream& stream, const std::string& body,
                                                         bool* keep_alive);
  boost::asio::awaitable<std::unique_ptr<Stream>> Connect(boost::system::error_code& ec);
#endif

  boost::asio::io_context& io_;
  const HttpUrl url_;
  const std::chrono::milliseconds timeout_;
  const size_t max_idle_;
  std::vector<std::unique_ptr<Stream>> idle_;
};

}  // namespace meshmq::auth
