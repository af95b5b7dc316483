// Accepts MQTT-over-TCP connections and hands each to a shard round-robin; the connection then
// stays on that shard for life.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "absl/status/status.h"
#include "broker/broker.h"

namespace meshmq::transport {

class TcpListener {
 public:
  TcpListener(broker::Broker& broker, std::string host, uint16_t port);
  ~TcpListener();

  // Binds and listens (port 0 picks a free port); errors name the address.
  absl::Status Listen();
  // Starts accepting; call after the broker threads run.
  void Start();
  void Stop();
  uint16_t port() const { return port_; }

 private:
  void DoAccept();

  broker::Broker& broker_;
  std::string host_;
  uint16_t port_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  int next_shard_ = 0;
  bool stopped_ = false;
};

}  // namespace meshmq::transport
