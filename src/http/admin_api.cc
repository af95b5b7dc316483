#include "http/admin_api.h"

#include <charconv>
#include <string_view>

#include "http/api_json.h"
#include "http/dashboard_files.h"
#include "http/metrics_snapshot.h"

namespace meshmq::http {
namespace {

constexpr std::string_view kApiPrefix = "/api/v1";

HttpResponse Text(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

HttpResponse MethodNotAllowed(std::string allow) {
  HttpResponse r = ErrorResponse(405, "method not allowed; allowed: " + allow);
  r.headers.emplace_back("Allow", std::move(allow));
  return r;
}

// Constant-time so the response time does not reveal how much of a guessed token matched.
bool SameSecret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= uint8_t(a[i]) ^ uint8_t(b[i]);
  return diff == 0;
}

bool ParseSize(const std::string& text, size_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

}  // namespace

HttpResponse JsonResponse(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  r.body = Dump(body);
  return r;
}

HttpResponse ErrorResponse(int status, const std::string& message) {
  return JsonResponse(status, nlohmann::json{{"error", message}});
}

AdminApi::AdminApi(AdminBackend& backend, AdminApiOptions options)
    : backend_(backend), options_(std::move(options)) {}

HttpResponse AdminApi::Handle(const HttpRequest& request) {
  std::optional<Target> target = ParseTarget(request.target);
  if (!target) return ErrorResponse(400, "malformed percent-encoding in the request target");
  const std::string& path = target->path;
  bool get = request.method == "GET";
  if (path == "/healthz") return get ? Text(200, "ok\n") : MethodNotAllowed("GET");
  if (path == "/readyz") return get ? Readyz() : MethodNotAllowed("GET");
  if (path == "/metrics") return get ? Metrics() : MethodNotAllowed("GET");
  if (path == kApiPrefix || path.starts_with(std::string(kApiPrefix) + "/")) {
    if (!Authorized(request)) {
      HttpResponse r = ErrorResponse(401, "missing or invalid bearer token");
      r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"meshmq\"");
      return r;
    }
    return HandleApi(request, *target);
  }
  // The dashboard's files are public (like any login page); its data comes from /api/v1 above.
  if (std::optional<HttpResponse> file = DashboardFile(path)) {
    return get ? *std::move(file) : MethodNotAllowed("GET");
  }
  return ErrorResponse(404, "no such endpoint");
}

HttpResponse AdminApi::HandleApi(const HttpRequest& request, const Target& target) {
  std::string_view path = std::string_view(target.path).substr(kApiPrefix.size());
  const std::string& m = request.method;
  auto only = [&](std::string_view method, auto handler) {
    return m == method ? handler() : MethodNotAllowed(std::string(method));
  };
  if (auto node = target.query.find("node"); node != target.query.end()) {
    if (std::optional<HttpResponse> r = ForNode(request, node->second)) return *std::move(r);
  }
  if (auto scope = target.query.find("scope"); scope != target.query.end()) {
    if (scope->second == "cluster") return ClusterScope(request, target);
    if (scope->second != "local") return ErrorResponse(400, "scope must be local or cluster");
  }
  if (path == "/nodes") return only("GET", [&] { return Nodes(); });
  if (path == "/clients") return only("GET", [&] { return Clients(target); });
  if (path == "/subscriptions") return only("GET", [&] { return Subscriptions(); });
  if (path == "/routes") return only("GET", [&] { return Routes(); });
  if (path == "/stats") return only("GET", [&] { return Stats(); });
  if (path == "/retained") return only("GET", [&] { return RetainedList(target); });
  if (path == "/publish") return only("POST", [&] { return Publish(request.body); });
  // "/clients/{id}" and "/retained/{topic...}": the rest of the path, percent-decoded, so ids
  // and topics may contain '/' (raw or as %2F).
  for (std::string_view prefix : {"/clients/", "/retained/"}) {
    if (!path.starts_with(prefix)) continue;
    if (path.size() == prefix.size()) return ErrorResponse(404, "no such endpoint");
    std::optional<std::string> rest = UrlDecode(path.substr(prefix.size()), false);
    if (!rest) return ErrorResponse(400, "malformed percent-encoding in the path");
    if (m != "GET" && m != "DELETE") return MethodNotAllowed("GET, DELETE");
    return prefix == "/clients/" ? ClientById(m, *rest) : RetainedTopic(m, *rest);
  }
  return ErrorResponse(404, "no such endpoint");
}

bool AdminApi::Authorized(const HttpRequest& request) const {
  if (options_.api_token.empty()) return true;
  constexpr std::string_view kBearer = "Bearer ";
  std::string_view h = request.authorization;
  if (!h.starts_with(kBearer)) return false;
  return SameSecret(h.substr(kBearer.size()), options_.api_token);
}

bool AdminApi::PageOf(const Target& target, size_t& offset, size_t& limit,
                      std::string& error) const {
  offset = 0;
  limit = options_.default_page_size;
  if (auto it = target.query.find("offset"); it != target.query.end()) {
    if (!ParseSize(it->second, offset)) {
      error = "offset must be a non-negative integer";
      return false;
    }
  }
  if (auto it = target.query.find("limit"); it != target.query.end()) {
    if (!ParseSize(it->second, limit) || limit == 0 || limit > options_.max_page_size) {
      error = "limit must be an integer from 1 to " + std::to_string(options_.max_page_size);
      return false;
    }
  }
  return true;
}

HttpResponse AdminApi::Readyz() {
  if (shutting_down()) return Text(503, "shutting down\n");
  return backend_.Ready() ? Text(200, "ready\n") : Text(503, "not ready\n");
}

HttpResponse AdminApi::Metrics() {
  HttpResponse r = Text(200, RenderMetrics(backend_.Metrics()));
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return r;
}

}  // namespace meshmq::http
