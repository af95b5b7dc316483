// The node's HTTP endpoint (Boost.Beast): /metrics, /healthz, /readyz and the admin API, served
// by one io_context on its own thread, so scrapes and admin calls never run on a broker shard.
//
// Threads: construct, Start and Stop from one control thread (src/app); SetShuttingDown and
// port() from any thread. The HTTP thread does the socket I/O; each request's handler runs on a
// small pool (4 threads), where the admin backend may wait for the shards and the cluster-wide
// views for peers (both bounded by timeouts) without stalling other connections.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "http/admin_api.h"
#include "http/admin_backend.h"

namespace meshmq::http {

struct HttpServerOptions {
  std::string host = "0.0.0.0";
  uint16_t port = 8082;         // 0 = any free port (see port())
  AdminApiOptions api;          // token, page sizes
  size_t max_connections = 64;  // further connections are accepted and closed at once
  size_t max_body_bytes = 1 << 20;
  size_t max_header_bytes = 16 << 10;
  // A request must arrive completely within read_timeout of its first byte being awaited on a
  // fresh connection; an idle keep-alive connection is closed after idle_timeout.
  std::chrono::milliseconds read_timeout{10000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds write_timeout{10000};
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, std::unique_ptr<AdminBackend> backend);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds (errors name the address) and starts the thread.
  absl::Status Start();
  // Closes the listener and every connection, then joins the thread. Idempotent.
  void Stop();
  // /readyz answers 503 from now on; call when shutdown begins, before the listeners close.
  void SetShuttingDown() { api_.SetShuttingDown(); }
  // The bound port (after Start), also when options.port was 0.
  uint16_t port() const { return port_.load(); }

  class Impl;

 private:
  HttpServerOptions options_;
  std::unique_ptr<AdminBackend> backend_;
  AdminApi api_;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  std::atomic<uint16_t> port_{0};
};

}  // namespace meshmq::http
