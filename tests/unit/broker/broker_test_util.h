// Test harness for the broker's sans-I/O client state machine: a fake transport channel that
// records every byte the broker sends and decodes it as a client would, and a TestConn that drives
// one broker::Client.
//
// Two ways to run the broker in a test:
//  - Inline (Broker not started): every TestConn call runs on the test thread and then polls all
//    shards' io_contexts until they are idle, so a test is deterministic and single-threaded.
//  - Threaded (Broker::Start() called): every TestConn call is posted to the connection's shard and
//    awaited, so Client, Session and Shard are touched only by their own thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/post.hpp>

#include "broker/broker.h"
#include "broker/client.h"
#include "broker/client_channel.h"
#include "codec/decoder.h"
#include "codec/encoder.h"
#include "codec/packets.h"
#include "gtest/gtest.h"

namespace meshmq::broker::testing {

using codec::ProtocolVersion;
using codec::ReasonCode;

// The broker's view of a socket. Touched only on the owning shard's thread.
class FakeChannel final : public ClientChannel {
 public:
  void Send(std::string_view bytes) override {
    if (close_calls > 0) ++sends_after_close;
    wire_.append(bytes);
  }
  void SendWithPayload(std::string_view header, codec::SharedBytes payload) override {
    if (close_calls > 0) ++sends_after_close;
    wire_.append(header);
    wire_.append(payload.view());
  }
  std::size_t QueuedBytes() const override { return queued_bytes; }
  void Close() override { ++close_calls; }
  const std::string& RemoteAddress() const override { return address_; }
  void PauseReading(std::chrono::steady_clock::duration wait) override {
    ++pause_calls;
    last_pause = wait;
  }
  void Abort() override { ++abort_calls; }

  // Bytes sent since the last call.
  std::string TakeWire() { return std::exchange(wire_, std::string()); }

  std::size_t queued_bytes = 0;  // what QueuedBytes() reports (slow-consumer tests)
  int close_calls = 0;
  int sends_after_close = 0;
  int pause_calls = 0;  // PauseReading (back-pressure) requests
  std::chrono::steady_clock::duration last_pause{};
  int abort_calls = 0;

 private:
  std::string wire_;
  std::string address_ = "127.0.0.1:50000";
};

// Runs the shards' ready handlers until none is left (inline mode).
inline void Settle(Broker& broker) {
  for (int round = 0; round < 1000; ++round) {
    std::size_t ran = 0;
    for (int i = 0; i < broker.shard_count(); ++i) ran += broker.io(i).poll();
    if (ran == 0) return;
  }
  ADD_FAILURE() << "shards did not settle";
}

// Runs fn on shard `shard`'s thread and waits for it (threaded mode).
inline void RunOn(Broker& broker, int shard, std::function<void()> fn) {
  std::promise<void> done;
  boost::asio::post(broker.io(shard), [&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

// Advances time in inline mode: runs every shard for `d` (timers fire), then settles.
inline void RunFor(Broker& broker, std::chrono::milliseconds d) {
  auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
    for (int i = 0; i < broker.shard_count(); ++i) {
      broker.io(i).run_for(std::chrono::milliseconds(5));
    }
  }
  Settle(broker);
}

// One client connection on one shard.
class TestConn {
 public:
  TestConn(Broker& broker, int shard, ProtocolVersion version, bool threaded = false)
      : broker_(broker), shard_(shard), version_(version), threaded_(threaded),
        decoder_(codec::DecodeRole::kClient) {
    decoder_.set_version(version);
    Do([this] {
      Shard& s = broker_.shard(shard_);
      client_ = std::make_unique<Client>(s, channel_, s.NextClientId());
    });
  }
  ~TestConn() {
    Do([this] {
      if (client_) {
        client_->OnTransportClosed();
        client_.reset();
      }
    });
  }
  TestConn(const TestConn&) = delete;
  TestConn& operator=(const TestConn&) = delete;

  ProtocolVersion version() const { return version_; }
  int shard() const { return shard_; }
  // Inline mode: after each call run only this connection's shard, so tasks it posted to other
  // shards wait (as they do when those shards are busy) until the test settles them.
  void SettleOwnShardOnly() { own_shard_only_ = true; }

  void Write(const codec::Packet& packet) {
    std::string bytes;
    codec::Encode(packet, version_, bytes);
    WriteBytes(std::move(bytes));
  }
  void WriteBytes(std::string bytes) {
    Do([this, bytes = std::move(bytes)] {
      if (client_) client_->OnBytes(bytes);
    });
  }
  // The socket ends without DISCONNECT (the transport calls OnTransportClosed).
  void DropTransport() {
    Do([this] {
      if (client_) {
        client_->OnTransportClosed();
        client_.reset();
      }
    });
  }
  // Runs fn with the live client (or nullptr once it is gone) on its shard.
  void WithClient(const std::function<void(Client*)>& fn) {
    Do([&] { fn(client_.get()); });
  }
  void SetQueuedBytes(std::size_t n) {
    Do([&] { channel_.queued_bytes = n; });
  }

  // Every packet received so far (decodes what arrived since the last call).
  const std::vector<codec::Packet>& packets() {
    Do([] {});
    return received_;
  }
  // Forgets the packets received so far.
  void Clear() {
    packets();
    received_.clear();
  }
  template <typename T>
  std::vector<T> Of() {
    std::vector<T> out;
    for (const auto& p : packets()) {
      if (const T* t = std::get_if<T>(&p)) out.push_back(*t);
    }
    return out;
  }
  // The packet types received, in order, e.g. "CONNACK,PUBLISH".
  std::string Types() {
    std::string out;
    for (const auto& p : packets()) {
      if (!out.empty()) out += ",";
      out += std::string(codec::PacketTypeName(codec::TypeOf(p)));
    }
    return out;
  }
  bool closed() {
    packets();
    return close_calls_ > 0;
  }
  int sends_after_close() {
    packets();
    return sends_after_close_;
  }
  bool decode_error() const { return decode_error_; }
  // Back-pressure requests and hard closes the client asked of its channel.
  int pause_calls() {
    int n = 0;
    Do([&] { n = channel_.pause_calls; });
    return n;
  }
  int abort_calls() {
    int n = 0;
    Do([&] { n = channel_.abort_calls; });
    return n;
  }

  // Threaded mode: polls until pred() is true or the timeout ends.
  bool WaitFor(const std::function<bool()>& pred,
               std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (pred()) return true;
      if (std::chrono::steady_clock::now() > end) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

 private:
  // Runs fn where the client lives, then collects what it sent and reaps a closed client the
  // way the transport does (OnTransportClosed, then destroy).
  void Do(std::function<void()> fn) {
    auto body = [&] {
      fn();
      if (!threaded_ && own_shard_only_) {
        while (broker_.io(shard_).poll() > 0) {
        }
      } else if (!threaded_) {
        Settle(broker_);
      }
      Collect();
    };
    if (threaded_) {
      RunOn(broker_, shard_, body);
    } else {
      body();
    }
    DecodeWire();
  }
  void Collect() {
    wire_ += channel_.TakeWire();
    close_calls_ = channel_.close_calls;
    sends_after_close_ = channel_.sends_after_close;
    if (client_ && channel_.close_calls > 0) {
      client_->OnTransportClosed();
      client_.reset();
      if (!threaded_) Settle(broker_);
      wire_ += channel_.TakeWire();
    }
  }
  void DecodeWire() {
    if (wire_.empty()) return;
    decoder_.Feed(wire_);
    wire_.clear();
    while (true) {
      codec::DecodeResult r = decoder_.Next();
      if (r.status == codec::DecodeStatus::kNeedMore) return;
      if (r.status == codec::DecodeStatus::kError) {
        decode_error_ = true;
        ADD_FAILURE() << "client could not decode what the broker sent: " << r.error.detail;
        return;
      }
      received_.push_back(std::move(r.packet));
    }
  }

  Broker& broker_;
  int shard_;
  ProtocolVersion version_;
  bool threaded_;
  bool own_shard_only_ = false;
  FakeChannel channel_;
  std::unique_ptr<Client> client_;
  std::string wire_;
  int close_calls_ = 0;
  int sends_after_close_ = 0;
  bool decode_error_ = false;
  codec::Decoder decoder_;
  std::vector<codec::Packet> received_;
};

// ---- Packet builders ----

inline codec::Connect MakeConnect(ProtocolVersion version, std::string client_id,
                                  bool clean_start = true, uint16_t keep_alive = 0) {
  codec::Connect c;
  c.version = version;
  c.client_id = std::move(client_id);
  c.clean_start = clean_start;
  c.keep_alive = keep_alive;
  return c;
}

inline codec::Publish MakePublish(std::string topic, std::string payload, uint8_t qos = 0,
                                  uint16_t packet_id = 0, bool retain = false) {
  codec::Publish p;
  p.topic = std::move(topic);
  p.payload = codec::SharedBytes(std::move(payload));
  p.qos = qos;
  p.packet_id = qos > 0 ? packet_id : 0;
  p.retain = retain;
  return p;
}

inline codec::Subscribe MakeSubscribe(uint16_t packet_id, std::string filter, uint8_t qos,
                                      uint32_t subscription_id = 0) {
  codec::Subscribe s;
  s.packet_id = packet_id;
  codec::SubscribeRequest r;
  r.filter = std::move(filter);
  r.qos = qos;
  s.subscriptions.push_back(r);
  if (subscription_id != 0) s.properties.subscription_identifiers.push_back(subscription_id);
  return s;
}

template <typename Ack>
Ack MakeAck(uint16_t packet_id) {
  Ack a;
  a.packet_id = packet_id;
  return a;
}

// Connects and returns the CONNACK (nullopt if none arrived).
inline std::optional<codec::Connack> Connect(TestConn& conn, const codec::Connect& connect) {
  conn.Write(connect);
  auto acks = conn.Of<codec::Connack>();
  if (acks.empty()) return std::nullopt;
  return acks.back();
}

inline std::optional<codec::Connack> Connect(TestConn& conn, std::string client_id,
                                             bool clean_start = true) {
  return Connect(conn, MakeConnect(conn.version(), std::move(client_id), clean_start));
}

// Subscribes and returns the SUBACK reason codes.
inline std::vector<ReasonCode> Subscribe(TestConn& conn, const codec::Subscribe& subscribe) {
  conn.Write(subscribe);
  for (const auto& s : conn.Of<codec::Suback>()) {
    if (s.packet_id == subscribe.packet_id) return s.reason_codes;
  }
  return {};
}

inline std::vector<ReasonCode> Subscribe(TestConn& conn, const std::string& filter, uint8_t qos,
                                         uint16_t packet_id = 1) {
  return Subscribe(conn, MakeSubscribe(packet_id, filter, qos));
}

inline std::vector<std::string> Payloads(const std::vector<codec::Publish>& publishes) {
  std::vector<std::string> out;
  for (const auto& p : publishes) out.push_back(p.payload.str());
  return out;
}

inline BrokerOptions InlineOptions(int workers = 1) {
  BrokerOptions o;
  o.workers = workers;
  return o;
}

}  // namespace meshmq::broker::testing
