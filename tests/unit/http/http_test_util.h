// Test helpers for the HTTP endpoint: a scriptable fake AdminBackend, a small synchronous Beast
// client, and promtool.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "http/admin_backend.h"
#include "http/http_server.h"

namespace meshmq::http::testing {

// Returns what the test put in; records publishes, kicks and deletes.
class FakeBackend : public AdminBackend {
 public:
  std::vector<NodeInfo> nodes;
  std::vector<ClientInfo> clients;
  std::map<std::string, ClientDetail> details;
  std::vector<SubscriptionInfo> subscriptions;
  RoutesInfo routes;
  std::map<std::string, RetainedInfo> retained;
  bool ready = true;
  bool shards_time_out = false;
  MetricsSnapshot metrics;

  absl::Mutex mu;
  std::vector<PublishRequest> published ABSL_GUARDED_BY(mu);
  std::vector<std::string> kicked ABSL_GUARDED_BY(mu);
  std::vector<std::string> connected;  // ids Kick succeeds for

  std::vector<NodeInfo> Nodes() override { return nodes; }
  absl::StatusOr<std::vector<ClientInfo>> Clients(const std::string& prefix) override {
    if (shards_time_out) return absl::UnavailableError("shards did not answer");
    std::vector<ClientInfo> out;
    for (const auto& c : clients) {
      if (c.client_id.starts_with(prefix)) out.push_back(c);
    }
    return out;
  }
  absl::StatusOr<ClientDetail> Client(const std::string& id) override {
    auto it = details.find(id);
    if (it == details.end()) return absl::NotFoundError("no such client");
    return it->second;
  }
  absl::Status Kick(const std::string& id) override {
    for (const auto& c : connected) {
      if (c == id) {
        absl::MutexLock lock(&mu);
        kicked.push_back(id);
        return absl::OkStatus();
      }
    }
    return absl::NotFoundError("client is not connected to this node");
  }
  absl::StatusOr<std::vector<SubscriptionInfo>> Subscriptions() override { return subscriptions; }
  RoutesInfo Routes() override { return routes; }
  RetainedPage ListRetained(const std::string& prefix, size_t offset, size_t limit) override {
    RetainedPage page;
    for (const auto& [topic, r] : retained) {
      if (!topic.starts_with(prefix)) continue;
      if (page.total >= offset && page.items.size() < limit) page.items.push_back(r);
      ++page.total;
    }
    return page;
  }
  std::optional<RetainedInfo> GetRetained(const std::string& topic) override {
    auto it = retained.find(topic);
    if (it == retained.end()) return std::nullopt;
    return it->second;
  }
  absl::Status DeleteRetained(const std::string& topic) override {
    return retained.erase(topic) > 0 ? absl::OkStatus() : absl::NotFoundError("no retained");
  }
  absl::Status Publish(const PublishRequest& request) override {
    absl::MutexLock lock(&mu);
    published.push_back(request);
    return absl::OkStatus();
  }
  bool Ready() override { return ready; }
  MetricsSnapshot Metrics() override { return metrics; }
};

struct Reply {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
};

// One keep-alive connection to the server under test.
class Client {
 public:
  explicit Client(uint16_t port) : socket_(io_) {
    boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), port);
    socket_.connect(ep);
  }

  Reply Send(const std::string& method, const std::string& target, const std::string& body = "",
             const std::map<std::string, std::string>& headers = {}) {
    namespace bhttp = boost::beast::http;
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    bhttp::write(socket_, req);
    bhttp::response<bhttp::string_body> res;
    bhttp::read(socket_, buffer_, res);
    Reply out;
    out.status = res.result_int();
    out.body = res.body();
    for (const auto& field : res) {
      out.headers[std::string(field.name_string())] = std::string(field.value());
    }
    return out;
  }
  // Writes raw bytes and reads one response (for malformed requests).
  Reply SendRaw(const std::string& bytes) {
    boost::asio::write(socket_, boost::asio::buffer(bytes));
    namespace bhttp = boost::beast::http;
    bhttp::response<bhttp::string_body> res;
    bhttp::read(socket_, buffer_, res);
    return Reply{static_cast<int>(res.result_int()), res.body(), {}};
  }
  boost::asio::ip::tcp::socket& socket() { return socket_; }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

// One request on a fresh connection.
inline Reply Fetch(uint16_t port, const std::string& method, const std::string& target,
                   const std::string& body = "",
                   const std::map<std::string, std::string>& headers = {}) {
  Client c(port);
  return c.Send(method, target, body, headers);
}

struct PromtoolResult {
  int exit_code = -1;
  std::string output;
};

// Runs `promtool check metrics` with `text` on stdin; output holds stdout and stderr.
inline PromtoolResult RunPromtool(const std::string& text) {
  char path[] = "/tmp/meshmq_metrics_XXXXXX";
  int fd = mkstemp(path);
  PromtoolResult r;
  if (fd < 0) return r;
  FILE* f = fdopen(fd, "w");
  fwrite(text.data(), 1, text.size(), f);
  fclose(f);
  std::string cmd = std::string("/usr/bin/promtool check metrics < ") + path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  unlink(path);
  return r;
}

}  // namespace meshmq::http::testing
