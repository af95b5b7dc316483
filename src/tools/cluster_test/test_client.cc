#include "tools/cluster_test/test_client.h"

#include <poll.h>

#include <charconv>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

#include "absl/strings/str_cat.h"
#include "codec/encoder.h"

namespace meshmq::tools {
namespace asio = boost::asio;
using codec::ReasonCode;

namespace {
// PUBACK/PUBREC/PUBREL/PUBCOMP with Success and no properties.
template <typename T>
T Ack(uint16_t packet_id) {
  T ack;
  ack.packet_id = packet_id;
  return ack;
}
}  // namespace

bool SplitHostPort(const std::string& address, std::string& host, uint16_t& port) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = address.substr(0, colon);
  const char* first = address.data() + colon + 1;
  const char* last = address.data() + address.size();
  auto [ptr, ec] = std::from_chars(first, last, port);
  return ec == std::errc() && ptr == last && port != 0;
}

TestClient::~TestClient() {
  boost::system::error_code ec;
  socket_.close(ec);
}

absl::StatusOr<codec::Connack> TestClient::Connect(const std::string& address,
                                                   const ConnectOptions& opts) {
  std::string host;
  uint16_t port = 0;
  if (!SplitHostPort(address, host, port)) {
    return absl::InvalidArgumentError(absl::StrCat("bad address '", address, "'"));
  }
  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(io_);
  auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  if (!ec) asio::connect(socket_, endpoints, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("connect ", address, ": ", ec.message()));
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  decoder_.set_version(codec::ProtocolVersion::kV5);

  codec::Connect connect;
  connect.version = codec::ProtocolVersion::kV5;
  connect.client_id = opts.client_id;
  connect.clean_start = opts.clean_start;
  connect.keep_alive = opts.keep_alive_s;
  if (opts.session_expiry_s > 0) connect.properties.session_expiry_interval = opts.session_expiry_s;
  if (auto s = Send(connect); !s.ok()) return s;
  auto connack = Await<codec::Connack>(0, "CONNACK");
  if (!connack.ok()) return connack.status();
  if (connack->reason_code != ReasonCode::kSuccess) {
    return absl::PermissionDeniedError(
        absl::StrCat("CONNACK reason 0x", absl::Hex(static_cast<int>(connack->reason_code))));
  }
  return connack;
}

absl::Status TestClient::Subscribe(const std::string& filter, uint8_t qos) {
  codec::Subscribe sub;
  sub.packet_id = NextPacketId();
  sub.subscriptions.push_back({.filter = filter, .qos = qos});
  if (auto s = Send(sub); !s.ok()) return s;
  auto suback = Await<codec::Suback>(sub.packet_id, "SUBACK");
  if (!suback.ok()) return suback.status();
  if (suback->reason_codes.size() != 1 || static_cast<int>(suback->reason_codes[0]) >= 0x80) {
    return absl::InternalError(absl::StrCat("SUBACK refused ", filter));
  }
  return absl::OkStatus();
}

absl::Status TestClient::Unsubscribe(const std::string& filter) {
  codec::Unsubscribe unsub;
  unsub.packet_id = NextPacketId();
  unsub.filters.push_back(filter);
  if (auto s = Send(unsub); !s.ok()) return s;
  return Await<codec::Unsuback>(unsub.packet_id, "UNSUBACK").status();
}

absl::Status TestClient::Publish(const std::string& topic, const std::string& payload,
                                 uint8_t qos, bool retain) {
  codec::Publish pub;
  pub.qos = qos;
  pub.retain = retain;
  pub.topic = topic;
  pub.payload = codec::SharedBytes(payload);
  if (qos > 0) pub.packet_id = NextPacketId();
  if (auto s = Send(pub); !s.ok()) return s;
  if (qos == 0) return absl::OkStatus();
  if (qos == 1) return Await<codec::Puback>(pub.packet_id, "PUBACK").status();
  auto pubrec = Await<codec::Pubrec>(pub.packet_id, "PUBREC");
  if (!pubrec.ok()) return pubrec.status();
  if (static_cast<int>(pubrec->reason_code) >= 0x80) {
    return absl::InternalError("PUBREC with an error reason");
  }
  if (auto s = Send(Ack<codec::Pubrel>(pub.packet_id)); !s.ok()) return s;
  return Await<codec::Pubcomp>(pub.packet_id, "PUBCOMP").status();
}

std::optional<Received> TestClient::Receive(int timeout_ms) {
  auto deadline = Deadline(timeout_ms);
  while (inbox_.empty()) {
    codec::Packet packet;
    // Control packets that nobody waits for (e.g. a late PINGRESP) are dropped here.
    if (ReadControl(deadline, packet) != ReadStatus::kPacket) break;
  }
  if (inbox_.empty()) return std::nullopt;
  Received r = std::move(inbox_.front());
  inbox_.pop_front();
  return r;
}

CloseInfo TestClient::WaitClosed(int timeout_ms) {
  auto deadline = Deadline(timeout_ms);
  codec::Packet packet;
  while (!peer_closed_ && ReadControl(deadline, packet) == ReadStatus::kPacket) {
  }
  return CloseInfo{peer_closed_, disconnect_reason_};
}

void TestClient::Disconnect() {
  if (!socket_.is_open()) return;
  if (!peer_closed_) (void)Send(codec::Disconnect{});
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

absl::Status TestClient::Send(const codec::Packet& packet) {
  if (!socket_.is_open() || peer_closed_) return absl::UnavailableError("connection closed");
  std::string bytes;
  codec::Encode(packet, codec::ProtocolVersion::kV5, bytes);
  boost::system::error_code ec;
  asio::write(socket_, asio::buffer(bytes), ec);
  if (ec) return absl::UnavailableError(absl::StrCat("write: ", ec.message()));
  return absl::OkStatus();
}

template <typename T>
absl::StatusOr<T> TestClient::Await(uint16_t packet_id, const char* what) {
  auto deadline = Deadline(timeout_);
  codec::Packet packet;
  while (true) {
    switch (ReadControl(deadline, packet)) {
      case ReadStatus::kTimeout:
        return absl::DeadlineExceededError(absl::StrCat("no ", what, " within ", timeout_, " ms"));
      case ReadStatus::kClosed:
        return absl::UnavailableError(absl::StrCat("connection closed while waiting for ", what));
      case ReadStatus::kPacket:
        break;
    }
    if (auto* p = std::get_if<T>(&packet)) {
      if constexpr (requires { p->packet_id; }) {
        if (packet_id != 0 && p->packet_id != packet_id) continue;
      }
      return *p;
    }
  }
}

TestClient::ReadStatus TestClient::ReadControl(Clock::time_point deadline, codec::Packet& out) {
  ReadStatus status = ReadPacket(deadline, out);
  if (status != ReadStatus::kPacket) return status;
  if (auto* d = std::get_if<codec::Disconnect>(&out)) disconnect_reason_ = d->reason_code;
  // Returned even when handled here, so that Receive() sees the inbox grow at once.
  HandleIncoming(out);
  return status;
}

bool TestClient::HandleIncoming(const codec::Packet& packet) {
  if (auto* pub = std::get_if<codec::Publish>(&packet)) {
    inbox_.push_back({pub->topic, pub->payload.str(), pub->qos, pub->retain});
    if (pub->qos == 1) (void)Send(Ack<codec::Puback>(pub->packet_id));
    if (pub->qos == 2) (void)Send(Ack<codec::Pubrec>(pub->packet_id));
    return true;
  }
  if (auto* rel = std::get_if<codec::Pubrel>(&packet)) {
    (void)Send(Ack<codec::Pubcomp>(rel->packet_id));
    return true;
  }
  return false;
}

TestClient::ReadStatus TestClient::ReadPacket(Clock::time_point deadline, codec::Packet& out) {
  while (true) {
    codec::DecodeResult result = decoder_.Next();
    if (result.status == codec::DecodeStatus::kPacket) {
      out = std::move(result.packet);
      return ReadStatus::kPacket;
    }
    if (result.status == codec::DecodeStatus::kError || peer_closed_ || !socket_.is_open()) {
      peer_closed_ = true;
      return ReadStatus::kClosed;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return ReadStatus::kTimeout;
    pollfd pfd{socket_.native_handle(), POLLIN, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready == 0) return ReadStatus::kTimeout;
    char buf[16384];
    boost::system::error_code ec;
    std::size_t n = ready > 0 ? socket_.read_some(asio::buffer(buf), ec) : 0;
    if (ready < 0 || ec) {
      peer_closed_ = true;
      return ReadStatus::kClosed;
    }
    decoder_.Feed(std::string_view(buf, n));
  }
}

uint16_t TestClient::NextPacketId() {
  last_packet_id_ = static_cast<uint16_t>(last_packet_id_ % 65535 + 1);
  return last_packet_id_;
}

}  // namespace meshmq::tools
