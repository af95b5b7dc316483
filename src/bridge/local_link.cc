#include "bridge/local_link.h"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "broker/shard.h"
#include "codec/encoder.h"

namespace meshmq::bridge {

namespace asio = boost::asio;
using codec::ProtocolVersion;

namespace {
// Below the broker's smallest sensible --max-inflight; the broker closes a client that has
// more QoS 2 publishes unreleased than that [MQTT-3.3.4-7].
constexpr int kMaxQos2Inflight = 16;

bool HasOrigin(const codec::Properties& p, const std::string& origin) {
  for (const auto& [k, v] : p.user_properties) {
    if (k == kOriginProperty && v == origin) return true;
  }
  return false;
}
}  // namespace

LocalLink::LocalLink(broker::Broker& broker, int shard, std::string client_id,
                     std::vector<TopicMapping> out, std::string origin, OnMessage on_message)
    : broker_(broker),
      shard_(broker.shard(shard)),
      client_id_(std::move(client_id)),
      out_(std::move(out)),
      origin_(std::move(origin)),
      address_("bridge:" + client_id_),
      on_message_(std::move(on_message)) {
  decoder_.set_version(ProtocolVersion::kV5);
}

LocalLink::~LocalLink() = default;

void LocalLink::Start() {
  asio::post(shard_.io(), [this, self = shared_from_this()] { Connect(); });
}

void LocalLink::Connect() {
  if (stopping_ || client_ || broker_.stopping()) return;
  decoder_ = codec::Decoder(codec::DecodeRole::kClient);
  decoder_.set_version(ProtocolVersion::kV5);
  qos2_inflight_ = 0;
  waiting_.clear();
  client_ = std::make_unique<broker::Client>(shard_, *this, shard_.NextClientId());
  codec::Connect connect;
  connect.version = ProtocolVersion::kV5;
  connect.client_id = client_id_;
  connect.clean_start = true;
  connect.keep_alive = 0;  // in-process: no keep-alive timeout
  Feed(connect);
}

void LocalLink::Stop(std::function<void()> done) {
  asio::post(shard_.io(), [this, self = shared_from_this(), done = std::move(done)] {
    stopping_ = true;
    if (client_) {
      client_->OnTransportClosed();
      client_.reset();
    }
    done();
  });
}

void LocalLink::Publish(codec::Publish publish) {
  asio::post(shard_.io(), [this, self = shared_from_this(), publish = std::move(publish)]() mutable {
    if (!client_ || client_->state() != broker::Client::State::kConnected) return;
    if (publish.qos == 2 && qos2_inflight_ >= kMaxQos2Inflight) {
      waiting_.push_back(std::move(publish));
      return;
    }
    PublishNow(std::move(publish));
  });
}

void LocalLink::PublishNow(codec::Publish publish) {
  if (publish.qos > 0) {
    if (++next_id_ == 0) next_id_ = 1;
    publish.packet_id = next_id_;
  }
  if (publish.qos == 2) ++qos2_inflight_;
  publish.properties.user_properties.emplace_back(kOriginProperty, origin_);
  Feed(publish);
}

void LocalLink::Feed(const codec::Packet& packet) {
  std::string bytes;
  codec::Encode(packet, ProtocolVersion::kV5, bytes);
  // Straight into the client when called from outside its handlers (Start, Publish posts);
  // replies produced while the broker is inside Send() are posted instead (see OnPacket).
  if (client_) client_->OnBytes(bytes);
}

void LocalLink::Send(std::string_view bytes) {
  decoder_.Feed(bytes);
  while (true) {
    codec::DecodeResult r = decoder_.Next();
    if (r.status != codec::DecodeStatus::kPacket) {
      if (r.status == codec::DecodeStatus::kError) {
        spdlog::error("bridge {}: undecodable packet from the local broker: {}", client_id_,
                      r.error.detail);
      }
      return;
    }
    OnPacket(r.packet);
  }
}

void LocalLink::SendWithPayload(std::string_view header, codec::SharedBytes payload) {
  std::string packet(header);
  packet.append(payload.view());
  Send(packet);
}

void LocalLink::OnPacket(codec::Packet& packet) {
  // Replies are posted: we are inside the broker client's own call stack here.
  auto reply = [this](codec::Packet p) {
    asio::post(shard_.io(), [this, self = shared_from_this(), p = std::move(p)] { Feed(p); });
  };
  if (auto* connack = std::get_if<codec::Connack>(&packet)) {
    if (connack->reason_code != codec::ReasonCode::kSuccess) {
      spdlog::error("bridge {}: the local broker refused the bridge client: {}", client_id_,
                    codec::ReasonCodeName(connack->reason_code));
      return;
    }
    if (out_.empty()) return;
    codec::Subscribe sub;
    sub.packet_id = 1;
    for (const TopicMapping& m : out_) {
      codec::SubscribeRequest r;
      r.filter = m.filter;
      r.qos = m.qos;
      r.no_local = true;  // what we publish locally (from "in") must not go back out
      r.retain_as_published = true;
      sub.subscriptions.push_back(std::move(r));
    }
    reply(std::move(sub));
  } else if (auto* p = std::get_if<codec::Publish>(&packet)) {
    if (p->qos == 1) reply(Ack<codec::Puback>(p->packet_id));
    if (p->qos == 2) reply(Ack<codec::Pubrec>(p->packet_id));
    if (HasOrigin(p->properties, origin_)) return;  // ours, e.g. forwarded back by a peer node
    on_message_(std::move(*p));
  } else if (auto* rel = std::get_if<codec::Pubrel>(&packet)) {
    reply(Ack<codec::Pubcomp>(rel->packet_id));
  } else if (auto* rec = std::get_if<codec::Pubrec>(&packet)) {
    if (static_cast<uint8_t>(rec->reason_code) >= 0x80) {
      --qos2_inflight_;
    } else {
      reply(Ack<codec::Pubrel>(rec->packet_id));
    }
  } else if (std::holds_alternative<codec::Pubcomp>(packet)) {
    --qos2_inflight_;
    asio::post(shard_.io(), [this, self = shared_from_this()] {
      while (!waiting_.empty() && qos2_inflight_ < kMaxQos2Inflight) {
        codec::Publish next = std::move(waiting_.front());
        waiting_.pop_front();
        PublishNow(std::move(next));
      }
    });
  } else if (auto* suback = std::get_if<codec::Suback>(&packet)) {
    for (size_t i = 0; i < suback->reason_codes.size() && i < out_.size(); ++i) {
      if (static_cast<uint8_t>(suback->reason_codes[i]) >= 0x80) {
        spdlog::error("bridge {}: local subscription to {} refused", client_id_, out_[i].filter);
      }
    }
  }
}

void LocalLink::Close() {
  // The broker ended our session (kick, takeover, shutdown): start again unless stopping.
  asio::post(shard_.io(), [this, self = shared_from_this()] {
    if (client_) {
      client_->OnTransportClosed();
      client_.reset();
    }
    if (stopping_ || broker_.stopping()) return;
    spdlog::warn("bridge {}: local session closed by the broker; reconnecting", client_id_);
    Connect();
  });
}

}  // namespace meshmq::bridge
