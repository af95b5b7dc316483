#include "storage/store.h"

#include <algorithm>
#include <map>

#include <spdlog/spdlog.h>

#include "broker/byte_io.h"
#include "broker/session_codec.h"
#include "storage/store_keys.h"

namespace meshmq::storage {

using broker::ByteReader;
using broker::ByteWriter;

namespace {

constexpr uint8_t kFormat = 1;  // first byte of every record value

std::string EncodeSubscription(const broker::StoredSubscription& sub) {
  std::string out(1, static_cast<char>(kFormat));
  ByteWriter w(out);
  w.U8(sub.request.qos);
  w.U8(sub.request.no_local);
  w.U8(sub.request.retain_as_published);
  w.U8(sub.request.retain_handling);
  w.U64(sub.subscription_id);
  return out;
}

std::optional<broker::StoredSubscription> DecodeSubscription(std::string_view filter,
                                                             std::string_view bytes) {
  if (bytes.empty() || static_cast<uint8_t>(bytes[0]) != kFormat) return std::nullopt;
  ByteReader r(bytes.substr(1));
  broker::StoredSubscription sub;
  sub.request.filter = std::string(filter);
  sub.request.qos = r.U8();
  sub.request.no_local = r.U8() != 0;
  sub.request.retain_as_published = r.U8() != 0;
  sub.request.retain_handling = r.U8();
  sub.subscription_id = static_cast<uint32_t>(r.U64());
  if (!r.ok() || sub.request.qos > 2) return std::nullopt;
  return sub;
}

// Into `out` (cleared first; its capacity is reused from one message to the next).
void EncodeMessage(const std::string& client_id, uint16_t packet_id, bool pubrec_received,
                   const broker::Delivery& d, std::string& out) {
  out.assign(1, static_cast<char>(kFormat));
  ByteWriter w(out);
  w.Str(client_id);
  w.U64(packet_id);
  w.U8(pubrec_received);
  broker::AppendDelivery(d, out);
}

// A stored message and the client id it belongs to.
struct StoredMessage {
  std::string client_id;
  broker::OutboundInflight entry;
};

std::optional<StoredMessage> DecodeMessage(uint64_t seq, std::string_view bytes) {
  if (bytes.empty() || static_cast<uint8_t>(bytes[0]) != kFormat) return std::nullopt;
  ByteReader r(bytes.substr(1));
  StoredMessage m;
  m.client_id = r.Str();
  size_t head = 1 + 8 + m.client_id.size() + 9;
  if (!r.ok() || bytes.size() < head) return std::nullopt;
  broker::OutboundInflight& e = m.entry;
  e.packet_id = static_cast<uint16_t>(r.U64());
  e.pubrec_received = r.U8() != 0;
  std::optional<broker::Delivery> d = broker::DecodeDelivery(bytes.substr(head));
  if (!d) return std::nullopt;
  // A message still to be sent must carry its message; after PUBREC only the id matters.
  if (!d->msg && !e.pubrec_received) return std::nullopt;
  e.delivery = std::move(*d);
  e.delivery.store_seq = seq;
  return m;
}

}  // namespace

std::string EncodeMeta(const broker::StoredSessionMeta& meta) {
  std::string out(1, static_cast<char>(kFormat));
  ByteWriter w(out);
  w.U8(static_cast<uint8_t>(meta.version));
  w.U64(meta.expiry_interval_s);
  w.U64(static_cast<uint64_t>(meta.disconnected_at_ms));
  return out;
}

std::optional<broker::StoredSessionMeta> DecodeMeta(std::string_view client_id,
                                                    std::string_view bytes) {
  if (bytes.empty() || static_cast<uint8_t>(bytes[0]) != kFormat) return std::nullopt;
  ByteReader r(bytes.substr(1));
  broker::StoredSessionMeta meta;
  meta.client_id = std::string(client_id);
  uint8_t version = r.U8();
  meta.expiry_interval_s = static_cast<uint32_t>(r.U64());
  meta.disconnected_at_ms = static_cast<int64_t>(r.U64());
  if (!r.ok() || !r.AtEnd() || version < 3 || version > 5) return std::nullopt;
  meta.version = static_cast<codec::ProtocolVersion>(version);
  return meta;
}

Store::Store(std::unique_ptr<KvEngine> engine, int shards)
    : engine_(std::move(engine)), shards_(shards) {
  for (ShardBatch& sb : shards_) sb.batch = engine_->NewBatch();
}

template <typename F>
void Store::With(int shard, F&& fn) {
  if (shard >= 0) {
    fn(*shards_[shard].batch);
    return;
  }
  std::unique_ptr<KvBatch> batch = engine_->NewBatch();
  fn(*batch);
  if (absl::Status s = engine_->Write(*batch); !s.ok()) {
    failures_.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("storage: {}", std::string(s.message()));
  }
}

void Store::PutSession(int shard, const broker::StoredSessionMeta& meta) {
  With(shard, [&](KvBatch& b) { b.Put(keys::Session(meta.client_id), EncodeMeta(meta)); });
}

void Store::DeleteSession(int shard, const std::string& client_id) {
  With(shard, [&](KvBatch& b) {
    b.Delete(keys::Session(client_id));
    for (char kind : {keys::kSubscription, keys::kIncomingQos2}) {
      b.DeleteRange(keys::RangeBegin(kind, client_id), keys::RangeEnd(kind, client_id));
    }
  });
}

void Store::PutSubscription(int shard, const std::string& client_id,
                            const broker::StoredSubscription& sub) {
  With(shard, [&](KvBatch& b) {
    b.Put(keys::Subscription(client_id, sub.request.filter), EncodeSubscription(sub));
  });
}

void Store::DeleteSubscription(int shard, const std::string& client_id,
                               const std::string& filter) {
  With(shard, [&](KvBatch& b) { b.Delete(keys::Subscription(client_id, filter)); });
}

void Store::PutMessage(int shard, const std::string& client_id, uint16_t packet_id,
                       bool pubrec_received, const broker::Delivery& delivery) {
  uint64_t seq = delivery.store_seq;
  if (shard < 0) {
    With(shard, [&](KvBatch& b) {
      std::string value;
      EncodeMessage(client_id, packet_id, pubrec_received, delivery, value);
      b.Put(keys::Message(seq), value);
    });
    return;
  }
  // Held until Commit, not encoded yet: in a 1:1 flow the subscriber often acks the message
  // before the group commit, and then it is never written (DeleteMessage).
  ShardBatch& sb = shards_[shard];
  auto [it, fresh] = sb.puts.try_emplace(seq);
  PendingMessage& p = it->second;
  if (fresh) {
    // The broker numbers a message when it first stores it, on the storing shard's thread, so a
    // key above every earlier one is a first put; a lower one is a new state of a record that
    // an earlier batch (or a previous run: Load) may have written.
    p.maybe_written = seq <= sb.high_seq;
    sb.high_seq = std::max(sb.high_seq, seq);
    p.client_id = client_id;
  }
  p.packet_id = packet_id;
  p.pubrec_received = pubrec_received;
  p.delivery = delivery;
}

void Store::DeleteMessage(int shard, const std::string& client_id, uint64_t seq) {
  if (shard < 0) {
    With(shard, [&](KvBatch& b) { b.Delete(keys::Message(seq)); });
    return;
  }
  ShardBatch& sb = shards_[shard];
  if (auto it = sb.puts.find(seq); it != sb.puts.end()) {
    bool maybe_written = it->second.maybe_written;
    sb.puts.erase(it);
    if (!maybe_written) {
      cancelled_.fetch_add(1, std::memory_order_relaxed);
      return;  // put and delete in the same batch: nothing to write
    }
  }
  // Deferred to the end of the batch and sorted (keys in ascending order are the cheapest for
  // RocksDB's memtable and flush). Moving a delete after every put of the same batch is safe
  // because a key is never put again once deleted (sequence numbers are not reused).
  sb.deletes.push_back(seq);
}

void Store::PutIncomingQos2(int shard, const std::string& client_id, uint16_t packet_id) {
  With(shard, [&](KvBatch& b) { b.Put(keys::IncomingQos2(client_id, packet_id), ""); });
}

void Store::DeleteIncomingQos2(int shard, const std::string& client_id, uint16_t packet_id) {
  With(shard, [&](KvBatch& b) { b.Delete(keys::IncomingQos2(client_id, packet_id)); });
}

void Store::PutRetained(int shard, const broker::MessagePtr& msg) {
  broker::Delivery d;
  d.msg = msg;
  std::string value(1, static_cast<char>(kFormat));
  broker::AppendDelivery(d, value);
  With(shard, [&](KvBatch& b) { b.Put(keys::Retained(msg->topic), value); });
}

void Store::DeleteRetained(int shard, const std::string& topic) {
  With(shard, [&](KvBatch& b) { b.Delete(keys::Retained(topic)); });
}

bool Store::HasPending(int shard) const {
  const ShardBatch& sb = shards_[shard];
  return sb.batch->Count() > 0 || !sb.puts.empty() || !sb.deletes.empty();
}

void Store::FlushMessages(ShardBatch& sb) {
  if (!sb.puts.empty()) {
    // In key order: the engine's memtable and flush sort least when keys arrive ascending.
    std::vector<std::pair<uint64_t, PendingMessage*>> order;
    order.reserve(sb.puts.size());
    for (auto& [seq, p] : sb.puts) order.emplace_back(seq, &p);
    std::sort(order.begin(), order.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [seq, p] : order) {
      EncodeMessage(p->client_id, p->packet_id, p->pubrec_received, p->delivery, sb.value);
      sb.batch->Put(keys::Message(seq), sb.value);
    }
    messages_written_.fetch_add(order.size(), std::memory_order_relaxed);
    sb.puts.clear();
  }
  if (!sb.deletes.empty()) {
    std::sort(sb.deletes.begin(), sb.deletes.end());
    for (uint64_t seq : sb.deletes) sb.batch->Delete(keys::Message(seq));
    sb.deletes.clear();
  }
}

bool Store::Commit(int shard) {
  ShardBatch& sb = shards_[shard];
  FlushMessages(sb);
  KvBatch& batch = *sb.batch;
  if (batch.Count() == 0) return true;
  absl::Status s = engine_->Write(batch);
  commits_.fetch_add(1, std::memory_order_relaxed);
  if (s.ok()) return true;
  batch.Clear();
  failures_.fetch_add(1, std::memory_order_relaxed);
  spdlog::error("storage: {}", std::string(s.message()));
  return false;
}

absl::StatusOr<broker::LoadedData> Store::Load() {
  broker::LoadedData data;
  size_t bad = 0;
  absl::Status s = engine_->Scan(std::string(1, keys::kRetained), [&](auto key, auto value) {
    std::optional<broker::Delivery> d;
    if (!value.empty() && static_cast<uint8_t>(value[0]) == kFormat) {
      d = broker::DecodeDelivery(value.substr(1));
    }
    if (d && d->msg && d->msg->topic == key.substr(1)) {
      data.retained.push_back(std::move(d->msg));
    } else {
      ++bad;
    }
  });
  if (!s.ok()) return s;
  std::map<std::string, broker::LoadedSession, std::less<>> sessions;
  s = engine_->Scan(std::string(1, keys::kSession), [&](auto key, auto value) {
    auto meta = DecodeMeta(key.substr(1), value);
    if (!meta) return void(++bad);
    auto& loaded = sessions[meta->client_id];
    loaded.state.client_id = meta->client_id;
    loaded.state.version = meta->version;
    loaded.state.expiry_interval_s = meta->expiry_interval_s;
    loaded.meta = std::move(*meta);
  });
  if (!s.ok()) return s;
  // Records of the other kinds belong to a session scanned above; orphans are skipped.
  auto each = [&](char kind, auto&& fn) {
    return engine_->Scan(std::string(1, kind), [&](std::string_view key, std::string_view value) {
      auto split = keys::Split(key);
      auto it = split ? sessions.find(split->client_id) : sessions.end();
      if (it == sessions.end() || !fn(it->second.state, split->rest, value)) ++bad;
    });
  };
  s = each(keys::kSubscription, [](broker::SessionState& st, auto filter, auto value) {
    auto sub = DecodeSubscription(filter, value);
    if (sub) st.subscriptions.push_back(std::move(*sub));
    return sub.has_value();
  });
  if (!s.ok()) return s;
  // Messages: key order is each session's delivery order (in-flight ones were sent before every
  // queued one). Records of sessions that are gone are deleted.
  std::unique_ptr<KvBatch> orphans = engine_->NewBatch();
  uint64_t max_seq = 0;
  s = engine_->Scan(std::string(1, keys::kMessage), [&](auto key, auto value) {
    uint64_t seq = key.size() == 9 ? keys::DecodeBigEndian(key.substr(1)) : 0;
    max_seq = std::max(max_seq, seq);
    auto m = key.size() == 9 ? DecodeMessage(seq, value) : std::nullopt;
    auto it = m ? sessions.find(m->client_id) : sessions.end();
    if (it == sessions.end()) {
      orphans->Delete(key);
      return void(++bad);
    }
    broker::SessionState& st = it->second.state;
    if (m->entry.packet_id != 0) {
      st.inflight.push_back(std::move(m->entry));
    } else {
      st.queue.push_back(std::move(m->entry.delivery));
    }
  });
  if (!s.ok()) return s;
  // Loaded records are in the engine: their next put is not a first one (see PutMessage).
  for (ShardBatch& sb : shards_) sb.high_seq = std::max(sb.high_seq, max_seq);
  if (orphans->Count() > 0) {
    if (absl::Status w = engine_->Write(*orphans); !w.ok()) return w;
  }
  s = each(keys::kIncomingQos2, [](broker::SessionState& st, auto id, auto) {
    st.incoming_qos2.push_back(static_cast<uint16_t>(keys::DecodeBigEndian(id)));
    return id.size() == 2;
  });
  if (!s.ok()) return s;
  for (auto& [id, loaded] : sessions) data.sessions.push_back(std::move(loaded));
  if (bad > 0) spdlog::warn("storage: skipped {} unreadable records", bad);
  return data;
}

}  // namespace meshmq::storage
