// libFuzzer target for a whole client connection: broker::Client fed an arbitrary byte stream.
//
// Input layout:
//   byte 0 bits 0-1: leading CONNECT written by the harness (0 = none, raw stream;
//                    1 = MQTT 3.1, 2 = 3.1.1, 3 = 5.0)
//          bit 2:    a subscriber client exists ("#", "$share/g/#", QoS 2)
//          bit 3:    the subscriber is v5 (else 3.1.1)
//          bit 4:    the subscriber acknowledges what it receives (PUBACK / PUBREC / PUBCOMP)
//          bit 5:    leading CONNECT asks for a persistent session (clean start 0, expiry)
//          bit 6:    leading v5 CONNECT announces small client limits (receive maximum
//                    1 + (byte 1 & 3), topic alias maximum 3, maximum packet size 200)
//          bit 7:    after the stream, a second v5 connection resumes client id "fz" (clean
//                    start 0; with bit 6 also maximum packet size 64 and receive maximum 1),
//                    acknowledges what is resent and leaves
//   byte 1: 0 feeds the stream at once; otherwise seeds the chunk sizes (1..64 bytes).
//   rest:   the bytes the client sends.
// One broker (one shard, not started) lives for the whole run; its io_context is polled from this
// thread. After each input every session and retained message is removed, so inputs do not
// depend on each other.
// Oracle: everything the broker sends to either client must decode as a client would decode it;
// a failure aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/broker.h"
#include "broker/client.h"
#include "broker/client_channel.h"
#include "codec/decoder.h"
#include "codec/encoder.h"

namespace {

using namespace meshmq;
using codec::ProtocolVersion;

class FakeChannel final : public broker::ClientChannel {
 public:
  void Send(std::string_view bytes) override { wire_.append(bytes); }
  void SendWithPayload(std::string_view header, codec::SharedBytes payload) override {
    wire_.append(header);
    wire_.append(payload.view());
  }
  std::size_t QueuedBytes() const override { return 0; }
  void Close() override { closed_ = true; }
  const std::string& RemoteAddress() const override { return address_; }
  bool closed() const { return closed_; }
  std::string TakeWire() { return std::exchange(wire_, std::string()); }

 private:
  std::string wire_;
  std::string address_ = "127.0.0.1:1";
  bool closed_ = false;
};

// A connection: its channel, its Client (destroyed once the channel closes, as the transport
// does) and a client-side decoder checking what the broker sent.
struct Conn {
  explicit Conn(broker::Broker& b) : shard(b.shard(0)) {
    client = std::make_unique<broker::Client>(shard, channel, shard.NextClientId());
  }
  ~Conn() { Close(); }
  void Write(std::string_view bytes) {
    if (client) client->OnBytes(bytes);
  }
  void Write(const codec::Packet& packet, ProtocolVersion version) {
    std::string bytes;
    codec::Encode(packet, version, bytes);
    Write(bytes);
  }
  void Close() {
    if (!client) return;
    version = client->version();
    client->OnTransportClosed();
    client.reset();
  }
  void ReapIfClosed() {
    if (channel.closed()) Close();
  }
  // Decodes everything the broker sent so far; returns the packets.
  std::vector<codec::Packet> Received() {
    std::vector<codec::Packet> out;
    std::string wire = channel.TakeWire();
    if (wire.empty() || decode_failed) return out;
    if (client) version = client->version();
    if (!decoder) {
      decoder = std::make_unique<codec::Decoder>(codec::DecodeRole::kClient);
      decoder->set_version(version);
    }
    decoder->Feed(wire);
    while (true) {
      codec::DecodeResult r = decoder->Next();
      if (r.status == codec::DecodeStatus::kNeedMore) break;
      if (r.status == codec::DecodeStatus::kError) {
        std::fprintf(stderr, "connection_fuzzer: broker sent undecodable bytes (v%d): %s\n",
                     static_cast<int>(version), r.error.detail.c_str());
        std::abort();
      }
      out.push_back(std::move(r.packet));
    }
    return out;
  }

  broker::Shard& shard;
  FakeChannel channel;
  std::unique_ptr<broker::Client> client;
  ProtocolVersion version = ProtocolVersion::kV311;
  std::unique_ptr<codec::Decoder> decoder;
  bool decode_failed = false;
};

broker::Broker& TheBroker() {
  static broker::Broker* b = [] {
    broker::BrokerOptions o;
    o.workers = 1;
    o.max_inflight = 4;
    o.max_queued_messages = 16;
    o.max_topic_alias = 8;
    o.max_packet_size = 4096;
    o.max_connections = 0;
    return new broker::Broker(o);
  }();
  return *b;
}

void Poll(broker::Broker& b) {
  for (int i = 0; i < 100 && b.io(0).poll() > 0; ++i) {
  }
}

codec::Connect LeadingConnect(uint8_t mode, uint8_t seed, ProtocolVersion version) {
  codec::Connect c;
  c.version = version;
  c.client_id = "fz";
  c.keep_alive = 60;
  c.clean_start = (mode & 0x20) == 0;
  if (version == ProtocolVersion::kV5) {
    if (!c.clean_start) c.properties.session_expiry_interval = 30;
    if (mode & 0x40) {
      c.properties.receive_maximum = static_cast<uint16_t>(1 + (seed & 3));
      c.properties.topic_alias_maximum = 3;
      c.properties.maximum_packet_size = 200;
    }
  }
  return c;
}

std::unique_ptr<Conn> StartSubscriber(broker::Broker& b, uint8_t mode) {
  auto sub = std::make_unique<Conn>(b);
  ProtocolVersion v = (mode & 0x08) ? ProtocolVersion::kV5 : ProtocolVersion::kV311;
  codec::Connect c;
  c.version = v;
  c.client_id = "fz-sub";
  if (v == ProtocolVersion::kV5) c.properties.topic_alias_maximum = 2;
  sub->Write(c, v);
  codec::Subscribe s;
  s.packet_id = 1;
  codec::SubscribeRequest all;
  all.filter = "#";
  all.qos = 2;
  codec::SubscribeRequest shared;
  shared.filter = "$share/g/#";
  shared.qos = 1;
  s.subscriptions = {all, shared};
  sub->Write(s, v);
  Poll(b);
  return sub;
}

template <typename AckT>
AckT Ack(uint16_t packet_id) {
  AckT a;
  a.packet_id = packet_id;
  return a;
}

// The subscriber's side of the QoS flows.
void Acknowledge(Conn& sub, bool ack) {
  for (const auto& p : sub.Received()) {
    if (!ack || !sub.client) continue;
    if (const auto* pub = std::get_if<codec::Publish>(&p)) {
      if (pub->qos == 1) sub.Write(Ack<codec::Puback>(pub->packet_id), sub.version);
      if (pub->qos == 2) sub.Write(Ack<codec::Pubrec>(pub->packet_id), sub.version);
    } else if (const auto* rel = std::get_if<codec::Pubrel>(&p)) {
      sub.Write(Ack<codec::Pubcomp>(rel->packet_id), sub.version);
    }
  }
}

// A second connection resuming the fuzzed client's session: exercises resends and the queue.
void Resume(broker::Broker& b, uint8_t mode) {
  Conn again(b);
  codec::Connect c;
  c.version = ProtocolVersion::kV5;
  c.client_id = "fz";
  c.clean_start = false;
  c.properties.session_expiry_interval = 30;
  if (mode & 0x40) {
    c.properties.maximum_packet_size = 64;
    c.properties.receive_maximum = 1;
  }
  again.Write(c, ProtocolVersion::kV5);
  Poll(b);
  for (int round = 0; round < 4; ++round) Acknowledge(again, true);
  Poll(b);
  again.Received();
  again.Close();
  Poll(b);
}

// Leaves the broker as it was before the input: no sessions, no retained messages.
void Reset(broker::Broker& b) {
  broker::Shard& shard = b.shard(0);
  std::vector<std::string> ids;
  shard.ForEachSession([&](broker::Session& s) { ids.push_back(s.client_id); });
  for (const auto& id : ids) {
    if (broker::Session* s = shard.FindSession(id)) shard.DestroySession(*s, true);
  }
  Poll(b);
  for (const auto& m : b.retained().List("", 0, 1u << 20)) b.retained().Remove(m->topic);
  Poll(b);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  broker::Broker& b = TheBroker();
  const uint8_t mode = data[0];
  uint32_t seed = data[1];
  std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

  std::unique_ptr<Conn> sub;
  if (mode & 0x04) sub = StartSubscriber(b, mode);
  const bool sub_acks = (mode & 0x10) != 0;
  {
    Conn conn(b);
    static constexpr ProtocolVersion kVersions[] = {ProtocolVersion::kV31, ProtocolVersion::kV311,
                                                    ProtocolVersion::kV5};
    if ((mode & 3) != 0) {
      ProtocolVersion v = kVersions[(mode & 3) - 1];
      conn.Write(LeadingConnect(mode, data[1], v), v);
      Poll(b);
    }
    size_t pos = 0;
    while (pos < stream.size() && !conn.channel.closed()) {
      size_t n = stream.size() - pos;
      if (seed != 0) {
        seed = seed * 1103515245u + 12345u;
        n = std::min<size_t>(n, 1 + (seed >> 16) % 64);
      }
      conn.Write(stream.substr(pos, n));
      pos += n;
      Poll(b);
      conn.Received();
      if (sub) {
        Acknowledge(*sub, sub_acks);
        sub->ReapIfClosed();
      }
    }
    conn.Received();
    conn.Close();
    Poll(b);
  }
  if ((mode & 0x80) && (mode & 3) != 0) Resume(b, mode);
  if (sub) {
    Acknowledge(*sub, sub_acks);
    sub->Received();
    sub.reset();
  }
  Poll(b);
  Reset(b);
  return 0;
}
