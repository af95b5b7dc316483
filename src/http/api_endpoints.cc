// The /api/v1 endpoints: each turns backend values into JSON, or a request body into a backend
// call. Routing, auth and paging live in admin_api.cc.
#include <algorithm>

#include "codec/topic_rules.h"
#include "http/admin_api.h"
#include "http/api_json.h"

namespace meshmq::http {
namespace {

using nlohmann::json;

HttpResponse FromStatus(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return ErrorResponse(404, std::string(status.message()));
    case absl::StatusCode::kInvalidArgument:
      return ErrorResponse(400, std::string(status.message()));
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kUnavailable:
      return ErrorResponse(503, std::string(status.message()));
    default:
      return ErrorResponse(500, std::string(status.message()));
  }
}

json Page(size_t total, size_t offset, size_t limit, json items) {
  return json{{"total", total}, {"offset", offset}, {"limit", limit}, {"items", std::move(items)}};
}

// Reads one optional field of the publish body; false (and `error`) when it has the wrong type.
template <typename T>
bool Field(const json& body, const char* key, T& out, const char* type, std::string& error) {
  auto it = body.find(key);
  if (it == body.end()) return true;
  bool ok = false;
  if constexpr (std::is_same_v<T, bool>) {
    ok = it->is_boolean();
  } else if constexpr (std::is_same_v<T, std::string>) {
    ok = it->is_string();
  } else {
    ok = it->is_number_integer();
  }
  if (!ok) {
    error = std::string("'") + key + "' must be " + type;
    return false;
  }
  out = it->get<T>();
  return true;
}

// Validates a publish body into `out`; returns the error message, empty when valid.
std::string ParsePublish(const std::string& text, PublishRequest& out) {
  json body = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return "body is not valid JSON";
  if (!body.is_object()) return "body must be a JSON object";
  std::string error, encoding = "utf8";
  int64_t qos = 0;
  if (!body.contains("topic")) return "'topic' is required";
  if (!Field(body, "topic", out.topic, "a string", error) ||
      !Field(body, "payload", out.payload, "a string", error) ||
      !Field(body, "qos", qos, "an integer", error) ||
      !Field(body, "retain", out.retain, "a boolean", error) ||
      !Field(body, "payload_encoding", encoding, "a string", error)) {
    return error;
  }
  // The same checks a client's PUBLISH gets [MQTT-3.3.2-1], [MQTT-3.3.2-2], [MQTT-1.5.4-1].
  if (!codec::IsValidTopicName(out.topic) || !codec::IsValidUtf8(out.topic)) {
    return "'topic' must be a non-empty UTF-8 topic name without wildcards";
  }
  if (qos < 0 || qos > 2) return "'qos' must be 0, 1 or 2";
  out.qos = static_cast<int>(qos);
  if (encoding == "base64") {
    std::optional<std::string> raw = Base64Decode(out.payload);
    if (!raw) return "'payload' is not valid base64";
    out.payload = std::move(*raw);
  } else if (encoding != "utf8") {
    return "'payload_encoding' must be \"utf8\" or \"base64\"";
  }
  return "";
}

}  // namespace

HttpResponse AdminApi::Nodes() {
  json items = json::array();
  for (const NodeInfo& n : backend_.Nodes()) items.push_back(ToJson(n));
  return JsonResponse(200, json{{"nodes", std::move(items)}});
}

HttpResponse AdminApi::Clients(const Target& target) {
  size_t offset = 0, limit = 0;
  std::string error;
  if (!PageOf(target, offset, limit, error)) return ErrorResponse(400, error);
  auto prefix = target.query.find("prefix");
  auto clients = backend_.Clients(prefix == target.query.end() ? "" : prefix->second);
  if (!clients.ok()) return FromStatus(clients.status());
  std::sort(clients->begin(), clients->end(),
            [](const ClientInfo& a, const ClientInfo& b) { return a.client_id < b.client_id; });
  json items = json::array();
  for (size_t i = offset; i < clients->size() && i - offset < limit; ++i) {
    items.push_back(ToJson((*clients)[i]));
  }
  return JsonResponse(200, Page(clients->size(), offset, limit, std::move(items)));
}

HttpResponse AdminApi::ClientById(const std::string& method, const std::string& id) {
  if (method == "DELETE") {
    absl::Status status = backend_.Kick(id);
    if (!status.ok()) return FromStatus(status);
    return JsonResponse(200, json{{"client_id", id}, {"disconnected", true}});
  }
  auto detail = backend_.Client(id);
  if (!detail.ok()) return FromStatus(detail.status());
  return JsonResponse(200, ToJson(*detail));
}

HttpResponse AdminApi::Subscriptions() {
  auto subs = backend_.Subscriptions();
  if (!subs.ok()) return FromStatus(subs.status());
  std::sort(subs->begin(), subs->end(), [](const SubscriptionInfo& a, const SubscriptionInfo& b) {
    return std::tie(a.filter, a.client_id) < std::tie(b.filter, b.client_id);
  });
  json items = json::array();
  for (const SubscriptionInfo& s : *subs) items.push_back(ToJson(s));
  return JsonResponse(200, json{{"total", subs->size()}, {"items", std::move(items)}});
}

HttpResponse AdminApi::Stats() { return JsonResponse(200, ToJson(backend_.Metrics())); }

HttpResponse AdminApi::Routes() { return JsonResponse(200, ToJson(backend_.Routes())); }

HttpResponse AdminApi::RetainedList(const Target& target) {
  size_t offset = 0, limit = 0;
  std::string error;
  if (!PageOf(target, offset, limit, error)) return ErrorResponse(400, error);
  auto prefix = target.query.find("prefix");
  RetainedPage page =
      backend_.ListRetained(prefix == target.query.end() ? "" : prefix->second, offset, limit);
  json items = json::array();
  for (const RetainedInfo& r : page.items) items.push_back(ToJson(r));
  return JsonResponse(200, Page(page.total, offset, limit, std::move(items)));
}

HttpResponse AdminApi::RetainedTopic(const std::string& method, const std::string& topic) {
  if (method == "DELETE") {
    absl::Status status = backend_.DeleteRetained(topic);
    if (!status.ok()) return FromStatus(status);
    return JsonResponse(200, json{{"topic", topic}, {"deleted", true}});
  }
  std::optional<RetainedInfo> found = backend_.GetRetained(topic);
  if (!found) return ErrorResponse(404, "no retained message on this topic");
  return JsonResponse(200, ToJson(*found));
}

HttpResponse AdminApi::Publish(const std::string& body) {
  PublishRequest request;
  if (std::string error = ParsePublish(body, request); !error.empty()) {
    return ErrorResponse(400, error);
  }
  absl::Status status = backend_.Publish(request);
  if (!status.ok()) return FromStatus(status);
  return JsonResponse(200, json{{"topic", request.topic},
                                {"qos", request.qos},
                                {"retain", request.retain},
                                {"payload_size", request.payload.size()}});
}

}  // namespace meshmq::http
