// The plain-TCP listener under its former name, for callers that have not moved to Listener.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "transport/listener.h"

namespace meshmq::transport {

class TcpListener : public Listener {
 public:
  TcpListener(broker::Broker& broker, std::string host, uint16_t port)
      : Listener(broker, TcpConfig(std::move(host), port)) {}

 private:
  static ListenerConfig TcpConfig(std::string host, uint16_t port) {
    ListenerConfig config;
    config.kind = ListenerKind::kTcp;
    config.host = std::move(host);
    config.port = port;
    return config;
  }
};

}  // namespace meshmq::transport
