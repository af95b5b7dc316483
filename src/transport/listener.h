// Accepts MQTT connections of one kind (TCP, TLS, WebSocket, WebSocket over TLS) on one address
// and hands each to a shard round-robin; the connection then stays on that shard for life.
// Plain TCP is accepted with accept4 and served by one EpollReactor per shard (no Asio socket
// per connection, see epoll_reactor.h); the other kinds use Asio sockets (connection.h).
//
// Listen/Start/Stop/ReloadCertificates are called from the control thread; accepting runs on
// shard 0's io_context.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "broker/broker.h"
#include "broker/token_bucket.h"
#include "transport/epoll_reactor.h"
#include "transport/tls_context.h"
#include "transport/ws_transport.h"

namespace meshmq::transport {

enum class ListenerKind { kTcp, kTls, kWs, kWss };

const char* ListenerKindName(ListenerKind kind);  // "tcp", "tls", "ws", "wss"

struct ListenerConfig {
  ListenerKind kind = ListenerKind::kTcp;
  std::string host = "0.0.0.0";
  uint16_t port = 1883;  // 0 picks a free port
  TlsSettings tls;       // kTls and kWss
  WsSettings ws;         // kWs and kWss
  // Limit on the TLS and WebSocket handshakes; 0 means the broker's connect timeout.
  std::chrono::milliseconds handshake_timeout{0};
};

class Listener {
 public:
  Listener(broker::Broker& broker, ListenerConfig config);
  // After Broker::Stop (the shard threads ended): frees the plain-TCP connections still open.
  ~Listener();

  // Loads the TLS files (kTls, kWss), binds and listens; errors name the listener and address.
  absl::Status Listen();
  // Starts accepting; call after the broker threads run.
  void Start();
  void Stop();
  // Re-reads the certificate, key and CA files: new handshakes use them, established connections
  // keep theirs. On error the old files stay in use. Does nothing for kTcp and kWs.
  absl::Status ReloadCertificates();

  uint16_t port() const { return port_; }
  ListenerKind kind() const { return config_.kind; }
  // "tls 127.0.0.1:8883" (the bound port once listening).
  std::string Describe() const;

 private:
  bool secure() const;
  void DoAccept();
  // Plain TCP: waits for the listening socket, then accepts what the backlog holds.
  void AcceptFds();
  // After an accept error (out of descriptors and similar): waits instead of spinning on it.
  void RetryAcceptLater(const std::string& why);
  // False (and a rate-limit pause armed) when the connection-rate bucket is empty.
  bool AcceptAllowed();
  // False when `ip` is over --max-connections-per-address; else its slot is taken.
  bool AdmitIp(const std::string& ip);
  // False when the socket's address is over --max-connections-per-address (socket closed).
  bool AdmitAddress(boost::asio::ip::tcp::socket& socket, std::string& ip);
  void StartConnection(broker::Shard& shard, boost::asio::ip::tcp::socket socket, std::string ip);
  // Plain TCP: hands accepted socket `fd` (peer "ip:port" in `remote`) to the next shard.
  void StartTcp(int fd, std::string remote);

  broker::Broker& broker_;
  const ListenerConfig config_;
  uint16_t port_;
  std::chrono::milliseconds handshake_timeout_;
  TlsContext tls_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  broker::TokenBucket accept_bucket_;  // --max-accept-rate; touched on shard 0 only
  // kTcp: one per shard, each used only on its shard's thread.
  std::vector<std::unique_ptr<EpollReactor>> reactors_;
  int next_shard_ = 0;
  bool stopped_ = false;
};

}  // namespace meshmq::transport
