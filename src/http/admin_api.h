// Request routing for the HTTP endpoint: /healthz, /readyz, /metrics and the JSON admin API under
// /api/v1 (docs/http-api.md). Free of sockets and Beast: a request value in, a response value out,
// so every endpoint is testable without a server.
//
// Threads: Handle runs on the HTTP thread; SetShuttingDown may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "http/admin_backend.h"
#include "http/url.h"

namespace meshmq::http {

struct HttpRequest {
  std::string method;         // "GET", "POST", ...
  std::string target;         // as sent: path and query, percent-encoded
  std::string authorization;  // the Authorization header, empty when absent
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Allow, ...)
};

struct AdminApiOptions {
  // When set, every /api/v1 request needs "Authorization: Bearer <token>". Never logged.
  std::string api_token;
  size_t default_page_size = 100;
  size_t max_page_size = 1000;
  // How long a cluster-wide view (?scope=cluster) or a call for another node (?node=) waits for
  // the peers' HTTP APIs.
  std::chrono::milliseconds peer_timeout{1500};
};

class AdminApi {
 public:
  AdminApi(AdminBackend& backend, AdminApiOptions options);

  HttpResponse Handle(const HttpRequest& request);
  // From now on /readyz answers 503 (so load balancers stop sending before listeners close).
  void SetShuttingDown() { shutting_down_.store(true); }
  bool shutting_down() const { return shutting_down_.load(); }

 private:
  HttpResponse HandleApi(const HttpRequest& request, const Target& target);
  HttpResponse Readyz();
  HttpResponse Metrics();
  HttpResponse Nodes();
  HttpResponse Clients(const Target& target);
  HttpResponse ClientById(const std::string& method, const std::string& id);
  HttpResponse Subscriptions();
  HttpResponse Routes();
  HttpResponse RetainedList(const Target& target);
  HttpResponse RetainedTopic(const std::string& method, const std::string& topic);
  HttpResponse Publish(const std::string& body);
  HttpResponse Stats();
  // ?node=<id> for another node: the request is passed to that node's API (cluster_api.cc).
  // nullopt when node_id is this node.
  std::optional<HttpResponse> ForNode(const HttpRequest& request, const std::string& node_id);
  // ?scope=cluster: this node's answer merged with every reachable peer's (cluster_api.cc).
  HttpResponse ClusterScope(const HttpRequest& request, const Target& target);
  HttpResponse ClusterStats(const HttpRequest& request);
  HttpResponse ClusterSubscriptions(const HttpRequest& request);
  HttpResponse ClusterClients(const HttpRequest& request, const Target& target);
  bool Authorized(const HttpRequest& request) const;
  // offset/limit from the query; false (and `error` set) when malformed.
  bool PageOf(const Target& target, size_t& offset, size_t& limit, std::string& error) const;

  AdminBackend& backend_;
  const AdminApiOptions options_;
  std::atomic<bool> shutting_down_{false};
};

// Helpers shared with the server for its own error responses.
HttpResponse JsonResponse(int status, const nlohmann::json& body);
HttpResponse ErrorResponse(int status, const std::string& message);

}  // namespace meshmq::http
