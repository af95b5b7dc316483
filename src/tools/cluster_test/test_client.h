// A small blocking MQTT 5 client for meshmq-cluster-test, built on Boost.Asio and the project's
// codec (DecodeRole::kClient). One thread owns a client; every call blocks until its
// acknowledgement arrives or its timeout passes.
//
// Incoming PUBLISH packets that arrive while a call waits for something else are acknowledged
// (PUBACK, or PUBREC → PUBREL → PUBCOMP) and kept in an inbox that Receive() drains in order.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "codec/decoder.h"
#include "codec/packets.h"

namespace meshmq::tools {

struct ConnectOptions {
  std::string client_id;
  bool clean_start = true;
  uint32_t session_expiry_s = 0;
  uint16_t keep_alive_s = 30;
};

// What a received PUBLISH looked like on the wire.
struct Received {
  std::string topic;
  std::string payload;
  uint8_t qos = 0;
  bool retain = false;
};

// How a connection ended, as seen by WaitClosed().
struct CloseInfo {
  bool closed = false;                       // the server closed the TCP connection
  std::optional<codec::ReasonCode> reason;   // reason of a DISCONNECT sent before closing
};

class TestClient {
 public:
  explicit TestClient(int timeout_ms) : timeout_(timeout_ms) {}
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  // Connects to "host:port" and waits for CONNACK; a refused CONNACK is an error.
  absl::StatusOr<codec::Connack> Connect(const std::string& address, const ConnectOptions& opts);
  // Subscribes one filter and waits for SUBACK; an error reason code is an error.
  absl::Status Subscribe(const std::string& filter, uint8_t qos);
  absl::Status Unsubscribe(const std::string& filter);
  // Publishes and completes the QoS handshake (PUBACK, or PUBREC/PUBREL/PUBCOMP).
  absl::Status Publish(const std::string& topic, const std::string& payload, uint8_t qos,
                       bool retain = false);
  // Next PUBLISH received (inbox first), or nullopt after `timeout_ms`.
  std::optional<Received> Receive(int timeout_ms);
  // Waits until the server ends the connection; inbox messages are kept.
  CloseInfo WaitClosed(int timeout_ms);
  // Sends DISCONNECT (normal) and closes the socket. Safe to call twice.
  void Disconnect();
  bool connected() const { return socket_.is_open(); }

 private:
  using Clock = std::chrono::steady_clock;
  enum class ReadStatus { kPacket, kTimeout, kClosed };

  absl::Status Send(const codec::Packet& packet);
  // Next packet; incoming PUBLISH/PUBREL are also acknowledged and queued in the inbox.
  ReadStatus ReadControl(Clock::time_point deadline, codec::Packet& out);
  ReadStatus ReadPacket(Clock::time_point deadline, codec::Packet& out);
  // Handles PUBLISH/PUBREL from the server; true if `packet` was one of them.
  bool HandleIncoming(const codec::Packet& packet);
  // Waits for a control packet of type T with `packet_id` (0: any), skipping others.
  template <typename T>
  absl::StatusOr<T> Await(uint16_t packet_id, const char* what);
  uint16_t NextPacketId();
  Clock::time_point Deadline(int ms) const { return Clock::now() + std::chrono::milliseconds(ms); }

  int timeout_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_{io_};
  codec::Decoder decoder_{codec::DecodeRole::kClient};
  std::deque<Received> inbox_;
  std::optional<codec::ReasonCode> disconnect_reason_;
  bool peer_closed_ = false;
  uint16_t last_packet_id_ = 0;
};

// Splits "host:port"; false if malformed.
bool SplitHostPort(const std::string& address, std::string& host, uint16_t& port);

}  // namespace meshmq::tools
