// Wiring for the extension features: the HTTP auth backend's options and the /metrics families
// of the HTTP auth backend and the MQTT bridges (src/http knows neither).
#pragma once

#include <string>

#include "auth/auth_service.h"
#include "bridge/bridge_manager.h"
#include "config/config.h"

namespace meshmq::app {

auth::HttpAuthOptions HttpAuthOptionsFrom(const config::Config& config);

// Prometheus text for the families below; empty when neither part is configured.
//   meshmq_auth_http_requests_total, _errors_total, _timeouts_total, _cache_hits_total,
//   _rejected_total; meshmq_bridge_connected{bridge}, _active, _queued,
//   meshmq_bridge_messages_total{bridge,direction=in|out}, _dropped_total, _reconnects_total.
std::string ExtensionMetrics(const auth::AuthService* auth, const bridge::BridgeManager* bridges);

}  // namespace meshmq::app
