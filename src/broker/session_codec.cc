// A small length-prefixed binary format: "MSS1", then the fields in a fixed order. Message
// properties travel as an encoded MQTT 5 PUBLISH so the codec's property rules apply to them.
#include "broker/session_codec.h"

#include <cstring>

#include "broker/byte_io.h"
#include "codec/decoder.h"
#include "codec/encoder.h"

namespace meshmq::broker {

namespace {

constexpr char kMagic[] = "MSS2";  // 2: the owner identity after the client id
constexpr char kOriginSeqTag[] = "OSQ1";

void WriteDelivery(ByteWriter& w, const Delivery& d) {
  w.U8(d.qos);
  w.U8(d.retain);
  w.U64(d.subscription_ids.size());
  for (uint32_t id : d.subscription_ids) w.U64(id);
  w.U8(d.msg != nullptr);
  if (!d.msg) return;
  const Message& m = *d.msg;
  w.Str(m.topic);
  w.Str(m.payload.view());
  w.U8(m.qos);
  w.U8(m.retain);
  // Most messages carry no properties: an empty string then, and no encoding work (the store
  // writes this per stored message).
  std::string encoded;
  if (m.properties) {
    codec::Publish props_carrier;
    props_carrier.topic = "p";
    props_carrier.properties = *m.properties;
    codec::Encode(props_carrier, codec::ProtocolVersion::kV5, encoded);
  }
  w.Str(encoded);
  w.U8(m.expiry_at_ms.has_value());
  w.U64(static_cast<uint64_t>(m.expiry_at_ms.value_or(0)));
  w.Str(m.origin_client_id);
  w.Str(m.origin_node);
  w.U64(static_cast<uint64_t>(m.timestamp_ms));
}

Delivery ReadDelivery(ByteReader& r) {
  Delivery d;
  d.qos = r.U8();
  d.retain = r.U8() != 0;
  uint64_t ids = r.U64();
  for (uint64_t i = 0; i < ids && r.ok(); ++i) d.subscription_ids.push_back(uint32_t(r.U64()));
  if (r.U8() == 0 || !r.ok()) return d;
  auto m = std::make_shared<Message>();
  m->topic = r.Str();
  m->payload = codec::SharedBytes(r.Str());
  m->qos = r.U8();
  m->retain = r.U8() != 0;
  std::string encoded = r.Str();
  if (!encoded.empty()) {
    codec::DecodeResult props = codec::DecodePacket(encoded, codec::ProtocolVersion::kV5,
                                                    codec::DecodeRole::kClient);
    if (props.status == codec::DecodeStatus::kPacket) {
      m->set_properties(std::move(std::get<codec::Publish>(props.packet).properties));
    }
  }
  bool has_expiry = r.U8() != 0;
  int64_t expiry = static_cast<int64_t>(r.U64());
  if (has_expiry) m->expiry_at_ms = expiry;
  m->origin_client_id = r.Str();
  m->origin_node = r.Str();
  m->timestamp_ms = static_cast<int64_t>(r.U64());
  ChargeMemory(*m);
  d.msg = std::move(m);
  return d;
}

}  // namespace

void AppendDelivery(const Delivery& d, std::string& out) {
  ByteWriter w(out);
  WriteDelivery(w, d);
}

std::optional<Delivery> DecodeDelivery(std::string_view bytes) {
  ByteReader r(bytes);
  Delivery d = ReadDelivery(r);
  if (!r.ok() || !r.AtEnd()) return std::nullopt;
  return d;
}

std::string EncodeSessionState(const SessionState& s) {
  std::string out(kMagic);
  ByteWriter w(out);
  w.Str(s.client_id);
  w.Str(s.owner.username);
  w.U8(s.owner.has_username);
  w.Str(s.owner.address);
  w.U8(s.owner.superuser);
  w.U8(static_cast<uint8_t>(s.version));
  w.U64(s.expiry_interval_s);
  w.U64(s.next_packet_id);
  w.U64(s.subscriptions.size());
  for (const auto& sub : s.subscriptions) {
    w.Str(sub.request.filter);
    w.U8(sub.request.qos);
    w.U8(sub.request.no_local);
    w.U8(sub.request.retain_as_published);
    w.U8(sub.request.retain_handling);
    w.U64(sub.subscription_id);
  }
  w.U64(s.inflight.size());
  for (const auto& e : s.inflight) {
    w.U64(e.packet_id);
    w.U8(e.pubrec_received);
    WriteDelivery(w, e.delivery);
  }
  w.U64(s.queue.size());
  for (const auto& d : s.queue) WriteDelivery(w, d);
  w.U64(s.incoming_qos2.size());
  for (uint16_t id : s.incoming_qos2) w.U64(id);
  w.U8(s.pending_will.has_value());
  if (s.pending_will) {
    // Carried as a message: only what publishing it needs (pass-through properties, expiry).
    const codec::Will& will = *s.pending_will;
    auto msg = std::make_shared<Message>();
    msg->topic = will.topic;
    msg->payload = will.payload;
    msg->qos = will.qos;
    msg->retain = will.retain;
    codec::Properties properties = will.properties;
    properties.will_delay_interval.reset();
    msg->set_properties(std::move(properties));
    Delivery d;
    d.msg = std::move(msg);
    WriteDelivery(w, d);
  }
  // Trailer: the messages' origin_seq, which a session that moves needs to drop second copies
  // (session_move.cc).
  out.append(kOriginSeqTag, 4);
  for (const auto& e : s.inflight) w.U64(e.delivery.msg ? e.delivery.msg->origin_seq : 0);
  for (const auto& d : s.queue) w.U64(d.msg ? d.msg->origin_seq : 0);
  return out;
}

std::optional<SessionState> DecodeSessionState(const std::string& bytes) {
  if (bytes.size() < 4 || std::memcmp(bytes.data(), kMagic, 4) != 0) return std::nullopt;
  ByteReader r(std::string_view(bytes).substr(4));
  SessionState s;
  s.client_id = r.Str();
  s.owner.username = r.Str();
  s.owner.has_username = r.U8() != 0;
  s.owner.address = r.Str();
  s.owner.superuser = r.U8() != 0;
  s.version = static_cast<codec::ProtocolVersion>(r.U8());
  s.expiry_interval_s = static_cast<uint32_t>(r.U64());
  s.next_packet_id = static_cast<uint16_t>(r.U64());
  uint64_t n = r.U64();
  for (uint64_t i = 0; i < n && r.ok(); ++i) {
    StoredSubscription sub;
    sub.request.filter = r.Str();
    sub.request.qos = r.U8();
    sub.request.no_local = r.U8() != 0;
    sub.request.retain_as_published = r.U8() != 0;
    sub.request.retain_handling = r.U8();
    sub.subscription_id = static_cast<uint32_t>(r.U64());
    s.subscriptions.push_back(std::move(sub));
  }
  n = r.U64();
  for (uint64_t i = 0; i < n && r.ok(); ++i) {
    OutboundInflight e;
    e.packet_id = static_cast<uint16_t>(r.U64());
    e.pubrec_received = r.U8() != 0;
    e.delivery = ReadDelivery(r);
    s.inflight.push_back(std::move(e));
  }
  n = r.U64();
  for (uint64_t i = 0; i < n && r.ok(); ++i) s.queue.push_back(ReadDelivery(r));
  n = r.U64();
  for (uint64_t i = 0; i < n && r.ok(); ++i) s.incoming_qos2.push_back(uint16_t(r.U64()));
  if (r.U8() != 0) {
    Delivery d = ReadDelivery(r);
    if (d.msg) {
      codec::Will will;
      will.topic = d.msg->topic;
      will.payload = d.msg->payload;
      will.qos = d.msg->qos;
      will.retain = d.msg->retain;
      will.properties = d.msg->props();
      s.pending_will = std::move(will);
    }
  }
  if (r.ok() && !r.AtEnd() && r.Tag(kOriginSeqTag)) {
    auto set = [&r](Delivery& d) {
      uint64_t seq = r.U64();
      if (d.msg && r.ok()) std::const_pointer_cast<Message>(d.msg)->origin_seq = seq;
    };
    for (auto& e : s.inflight) set(e.delivery);  // the messages were made here, not yet shared
    for (auto& d : s.queue) set(d);
  }
  if (!r.ok() || !r.AtEnd()) return std::nullopt;
  auto version = static_cast<uint8_t>(s.version);
  if (version < 3 || version > 5) return std::nullopt;
  // Bytes from a peer must not be able to crash us later: entries that would have to be sent
  // but carry no message are dropped.
  std::erase_if(s.inflight, [](const OutboundInflight& e) { return !e.pubrec_received && !e.delivery.msg; });
  std::erase_if(s.queue, [](const Delivery& d) { return !d.msg; });
  return s;
}

}  // namespace meshmq::broker
