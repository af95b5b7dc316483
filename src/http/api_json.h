// JSON shapes of the admin API (docs/http-api.md). Payloads that are valid UTF-8 are sent as
// strings, anything else as base64 with "payload_encoding": "base64".
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "http/admin_backend.h"
#include "http/metrics_snapshot.h"

namespace meshmq::http {

nlohmann::json ToJson(const NodeInfo& node);
nlohmann::json ToJson(const ClientInfo& client);
nlohmann::json ToJson(const ClientDetail& client);
nlohmann::json ToJson(const SubscriptionInfo& sub);
nlohmann::json ToJson(const RoutesInfo& routes);
nlohmann::json ToJson(const RetainedInfo& retained);
// The node's counters for /api/v1/stats (the dashboard's overview); /metrics has everything.
nlohmann::json ToJson(const MetricsSnapshot& metrics);

// Serializes for a response body; invalid UTF-8 inside strings is replaced, never thrown on.
std::string Dump(const nlohmann::json& value);

}  // namespace meshmq::http
