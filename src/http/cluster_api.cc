// Cluster-wide views of the admin API, for the dashboard (docs/dashboard.md):
//   ?node=<id>       the request is answered by that node: passed to its HTTP API unchanged
//                    (method, path, query, body and the caller's Authorization header);
//   ?scope=cluster   on /clients, /subscriptions and /stats: this node's answer merged with every
//                    reachable peer's; peers that do not answer are listed under "errors".
// Peers are found through the cluster membership (their HTTP address comes in the cluster
// hello) and called with the caller's own token, so nothing here bypasses any node's auth.
// A request passed on never fans out again: peers are asked for their local view only.
#include <algorithm>

#include "http/admin_api.h"
#include "http/api_json.h"
#include "http/peer_client.h"

namespace meshmq::http {
namespace {

using nlohmann::json;

// One node's part of a cluster-wide answer.
struct NodeAnswer {
  std::string node_id;
  json body;          // the node's JSON answer, null when it failed
  std::string error;  // why it failed
};

bool Callable(const NodeInfo& n) {
  return !n.self && !n.http_address.empty() && (n.state == "alive" || n.state == "suspect");
}

// This node's answer (already computed) plus the same question to every callable peer.
std::vector<NodeAnswer> AskCluster(AdminBackend& backend, const HttpRequest& request,
                                   const HttpResponse& local, const std::string& peer_target,
                                   std::chrono::milliseconds timeout) {
  std::vector<NodeInfo> nodes = backend.Nodes();
  std::vector<NodeAnswer> out;
  NodeAnswer self{nodes.empty() ? "" : nodes.front().node_id, json(), ""};
  if (local.status == 200) {
    self.body = json::parse(local.body, nullptr, false);
  } else {
    self.error = "HTTP " + std::to_string(local.status) + ": " + local.body;
  }
  out.push_back(std::move(self));
  std::vector<PeerCall> calls;
  for (const NodeInfo& n : nodes) {
    if (Callable(n)) {
      calls.push_back({n.node_id, n.http_address, "GET", peer_target, request.authorization, ""});
    } else if (!n.self && n.state != "left") {
      out.push_back({n.node_id, json(), n.http_address.empty() ? "no HTTP address known"
                                                                : "node is " + n.state});
    }
  }
  for (PeerAnswer& a : CallPeers(calls, timeout)) {
    NodeAnswer answer{a.node_id, json(), a.error};
    if (a.status == 200) {
      answer.body = json::parse(a.body, nullptr, false);
      if (answer.body.is_discarded()) answer.error = "answer is not JSON";
    } else if (a.status != 0) {
      answer.error = "HTTP " + std::to_string(a.status) + ": " + a.body;
    }
    out.push_back(std::move(answer));
  }
  for (NodeAnswer& a : out) {
    if (!a.error.empty() || !a.body.is_object()) a.body = json();
  }
  return out;
}

json Errors(const std::vector<NodeAnswer>& answers) {
  json errors = json::array();
  for (const NodeAnswer& a : answers) {
    if (a.body.is_null()) {
      errors.push_back({{"node", a.node_id}, {"error", a.error.empty() ? "no answer" : a.error}});
    }
  }
  return errors;
}

// A string field of a peer's JSON item; empty when missing or not a string (a peer's answer is
// input, not trusted to have the right shape).
const std::string& Str(const json& item, const char* key) {
  static const std::string kEmpty;
  auto it = item.find(key);
  return it != item.end() && it->is_string() ? it->get_ref<const std::string&>() : kEmpty;
}

std::string Param(const Target& target, const std::string& key) {
  auto it = target.query.find(key);
  return it == target.query.end() ? "" : it->second;
}

}  // namespace

std::optional<HttpResponse> AdminApi::ForNode(const HttpRequest& request,
                                              const std::string& node_id) {
  std::vector<NodeInfo> nodes = backend_.Nodes();
  if (nodes.empty() || nodes.front().node_id == node_id) return std::nullopt;  // this node
  auto it = std::find_if(nodes.begin(), nodes.end(),
                         [&](const NodeInfo& n) { return n.node_id == node_id; });
  if (it == nodes.end()) return ErrorResponse(404, "no node '" + node_id + "' in the cluster");
  if (it->http_address.empty()) {
    return ErrorResponse(502, "node '" + node_id + "' announced no HTTP address");
  }
  // The target still says node=<id>, which the peer recognises as itself.
  PeerCall call{node_id,        it->http_address,      request.method,
                request.target, request.authorization, request.body};
  PeerAnswer answer = std::move(CallPeers({call}, options_.peer_timeout).front());
  if (answer.status == 0) {
    return ErrorResponse(502, "node '" + node_id + "' did not answer: " + answer.error);
  }
  HttpResponse r;
  r.status = answer.status;
  r.content_type = answer.content_type.empty() ? "application/json" : answer.content_type;
  r.body = std::move(answer.body);
  return r;
}

HttpResponse AdminApi::ClusterScope(const HttpRequest& request, const Target& target) {
  if (request.method != "GET") return ErrorResponse(405, "scope=cluster is read-only (GET)");
  if (target.path == "/api/v1/stats") return ClusterStats(request);
  if (target.path == "/api/v1/subscriptions") return ClusterSubscriptions(request);
  if (target.path == "/api/v1/clients") return ClusterClients(request, target);
  return ErrorResponse(400, "scope=cluster is supported on /clients, /subscriptions and /stats");
}

HttpResponse AdminApi::ClusterStats(const HttpRequest& request) {
  auto answers = AskCluster(backend_, request, Stats(), "/api/v1/stats", options_.peer_timeout);
  json errors = Errors(answers);  // before the bodies are moved out
  json nodes = json::array();
  for (NodeAnswer& a : answers) {
    if (!a.body.is_null()) nodes.push_back(std::move(a.body));
  }
  return JsonResponse(200, json{{"nodes", std::move(nodes)}, {"errors", std::move(errors)}});
}

HttpResponse AdminApi::ClusterSubscriptions(const HttpRequest& request) {
  auto answers = AskCluster(backend_, request, Subscriptions(), "/api/v1/subscriptions",
                            options_.peer_timeout);
  json items = json::array();
  for (NodeAnswer& a : answers) {
    if (a.body.is_null() || !a.body["items"].is_array()) continue;
    for (json& s : a.body["items"]) {
      s["node"] = a.node_id;
      items.push_back(std::move(s));
    }
  }
  std::sort(items.begin(), items.end(), [](const json& a, const json& b) {
    return std::tie(Str(a, "filter"), Str(a, "node"), Str(a, "client_id")) <
           std::tie(Str(b, "filter"), Str(b, "node"), Str(b, "client_id"));
  });
  size_t total = items.size();
  return JsonResponse(200, json{{"total", total}, {"items", std::move(items)},
                                {"errors", Errors(answers)}});
}

HttpResponse AdminApi::ClusterClients(const HttpRequest& request, const Target& target) {
  size_t offset = 0, limit = 0;
  std::string error;
  if (!PageOf(target, offset, limit, error)) return ErrorResponse(400, error);
  // Every node's first offset+limit clients by id hold the merged page (capped at the page size
  // limit: deeper pages of a huge cluster need a narrower prefix).
  size_t head = std::min(offset + limit, options_.max_page_size);
  std::string prefix = Param(target, "prefix");
  Target local{"/api/v1/clients", {{"prefix", prefix}, {"limit", std::to_string(head)}}};
  std::string peer_target =
      "/api/v1/clients?prefix=" + UrlEncode(prefix) + "&limit=" + std::to_string(head);
  auto answers = AskCluster(backend_, request, Clients(local), peer_target, options_.peer_timeout);
  json all = json::array();
  size_t total = 0;
  for (NodeAnswer& a : answers) {
    if (a.body.is_null() || !a.body["items"].is_array()) continue;
    total += a.body.value("total", size_t{0});
    for (json& c : a.body["items"]) all.push_back(std::move(c));
  }
  std::sort(all.begin(), all.end(), [](const json& a, const json& b) {
    return std::tie(Str(a, "client_id"), Str(a, "node")) <
           std::tie(Str(b, "client_id"), Str(b, "node"));
  });
  json items = json::array();
  for (size_t i = offset; i < all.size() && i - offset < limit; ++i) items.push_back(all[i]);
  return JsonResponse(200, json{{"total", total}, {"offset", offset}, {"limit", limit},
                                {"items", std::move(items)}, {"errors", Errors(answers)}});
}

}  // namespace meshmq::http
