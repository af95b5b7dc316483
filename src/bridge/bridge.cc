#include "bridge/bridge.h"

#include <functional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

#include "codec/encoder.h"

namespace meshmq::bridge {

namespace asio = boost::asio;
using asio::ip::tcp;
using codec::ProtocolVersion;
using Clock = std::chrono::steady_clock;

namespace {
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
constexpr auto kEchoWindow = std::chrono::seconds(30);

size_t Fingerprint(const codec::Publish& p) {
  return std::hash<std::string_view>{}(p.topic) * 31 + std::hash<std::string_view>{}(p.payload.view());
}
// `p` under the mapped topic, at no more than the mapping's QoS, with the application properties
// that cross the bridge (the same both ways; packet id and transport-level properties do not).
codec::Publish Remapped(codec::Publish p, std::string topic, uint8_t max_qos) {
  codec::Publish out;
  out.topic = std::move(topic);
  out.qos = std::min(p.qos, max_qos);
  out.retain = p.retain;
  out.payload = std::move(p.payload);
  out.properties.user_properties = std::move(p.properties.user_properties);
  out.properties.content_type = std::move(p.properties.content_type);
  out.properties.payload_format_indicator = p.properties.payload_format_indicator;
  out.properties.response_topic = std::move(p.properties.response_topic);
  out.properties.correlation_data = std::move(p.properties.correlation_data);
  out.properties.message_expiry_interval = p.properties.message_expiry_interval;
  return out;
}

}  // namespace

Bridge::Bridge(asio::io_context& io, broker::Broker& broker, BridgeConfig config,
               std::shared_ptr<BridgeStats> stats)
    : io_(io),
      broker_(broker),
      config_(std::move(config)),
      stats_(std::move(stats)),
      origin_(config_.client_id),
      backoff_timer_(io) {}

Bridge::~Bridge() = default;

absl::Status Bridge::Init() {
  tls_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  if (!config_.tls) return absl::OkStatus();
  boost::system::error_code ec;
  if (config_.tls_insecure) {
    tls_->set_verify_mode(asio::ssl::verify_none);
  } else {
    tls_->set_verify_mode(asio::ssl::verify_peer);
    if (config_.ca_file.empty()) {
      tls_->set_default_verify_paths(ec);
    } else {
      tls_->load_verify_file(config_.ca_file, ec);
    }
    if (ec) return absl::InvalidArgumentError("bridge " + config_.name + ": tls ca: " + ec.message());
    tls_->set_verify_callback(asio::ssl::host_name_verification(config_.host));
  }
  if (!config_.cert_file.empty()) {
    tls_->use_certificate_chain_file(config_.cert_file, ec);
    if (!ec) tls_->use_private_key_file(config_.key_file, asio::ssl::context::pem, ec);
    if (ec) return absl::InvalidArgumentError("bridge " + config_.name + ": tls cert/key: " + ec.message());
  }
  return absl::OkStatus();
}

void Bridge::Start() {
  stats_->active = 1;
  const int shard = static_cast<int>(std::hash<std::string>{}(config_.name) %
                                     static_cast<size_t>(broker_.shard_count()));
  std::weak_ptr<Bridge> weak = weak_from_this();
  local_ = std::make_shared<LocalLink>(
      broker_, shard, config_.client_id, config_.out, origin_, [this, weak](codec::Publish p) {
        // Shard thread: hand over to the bridges' thread.
        if (auto self = weak.lock()) {
          asio::post(io_, [self, p = std::move(p)]() mutable { self->OnLocalMessage(std::move(p)); });
        }
      });
  local_->Start();
  asio::co_spawn(io_, [self = shared_from_this()] { return self->Run(); }, asio::detached);
}

void Bridge::Stop(std::function<void()> done) {
  stopped_ = true;
  stats_->active = 0;
  stats_->connected = 0;
  backoff_timer_.cancel();
  if (connected_) SendPacket(codec::Disconnect{});
  CloseSocket();
  if (local_) {
    local_->Stop(std::move(done));
  } else {
    done();
  }
}

void Bridge::CloseSocket() {
  if (!stream_) return;
  boost::system::error_code ignored;
  stream_->next_layer().shutdown(tcp::socket::shutdown_both, ignored);
  stream_->next_layer().close(ignored);
}

asio::awaitable<void> Bridge::Run() {
  auto backoff = std::chrono::milliseconds(config_.reconnect_min_ms);
  bool first = true;
  while (!stopped_) {
    if (!first) stats_->reconnects.fetch_add(1, std::memory_order_relaxed);
    first = false;
    bool was_connected = false;
    absl::Status status = co_await Session();
    was_connected = status.ok();  // Session returns ok when the session ran and then ended
    if (stopped_) break;
    if (was_connected) backoff = std::chrono::milliseconds(config_.reconnect_min_ms);
    spdlog::warn("bridge {}: remote {}:{} {}; retrying in {} ms", config_.name, config_.host,
                 config_.port, status.ok() ? "connection lost" : std::string(status.message()),
                 backoff.count());
    backoff_timer_.expires_after(backoff);
    boost::system::error_code ec;
    co_await backoff_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    backoff = std::min(backoff * 2, std::chrono::milliseconds(config_.reconnect_max_ms));
  }
}

asio::awaitable<absl::Status> Bridge::Session() {
  const uint64_t gen = ++gen_;
  stream_ = std::make_unique<TlsStream>(io_, *tls_);
  write_queue_.clear();
  writing_ = false;
  decoder_ = codec::Decoder(codec::DecodeRole::kClient);
  decoder_.set_version(static_cast<ProtocolVersion>(config_.version));
  deadline_ = Clock::now() + kHandshakeTimeout;
  asio::co_spawn(io_, [self = shared_from_this(), gen] { return self->Heartbeat(gen); },
                 asio::detached);
  absl::Status status = co_await Handshake(gen);
  if (!status.ok()) {
    CloseSocket();
    co_return status;
  }
  connected_ = true;
  stats_->connected = 1;
  spdlog::info("bridge {}: connected to {}:{} (MQTT {})", config_.name, config_.host, config_.port,
               config_.version == 5 ? "5" : "3.1.1");
  if (!config_.in.empty()) {
    codec::Subscribe sub;
    sub.packet_id = NextPacketId();
    for (const TopicMapping& m : config_.in) {
      codec::SubscribeRequest r;
      r.filter = m.filter;
      r.qos = m.qos;
      r.no_local = config_.version == 5;  // what we publish there must not come back
      r.retain_as_published = config_.version == 5;
      sub.subscriptions.push_back(std::move(r));
    }
    SendPacket(sub);
  }
  Pump();
  std::string buf(64 * 1024, '\0');
  while (!stopped_) {
    boost::system::error_code ec;
    size_t n = config_.tls ? co_await stream_->async_read_some(
                                 asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec))
                           : co_await stream_->next_layer().async_read_some(
                                 asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    decoder_.Feed(std::string_view(buf.data(), n));
    bool failed = false;
    while (true) {
      codec::DecodeResult r = decoder_.Next();
      if (r.status == codec::DecodeStatus::kNeedMore) break;
      if (r.status == codec::DecodeStatus::kError) {
        spdlog::warn("bridge {}: bad packet from the remote: {}", config_.name, r.error.detail);
        failed = true;
        break;
      }
      if (config_.keep_alive > 0) deadline_ = Clock::now() + std::chrono::seconds(config_.keep_alive) * 3 / 2;
      OnPacket(r.packet);
    }
    if (failed) break;
  }
  connected_ = false;
  stats_->connected = 0;
  ++gen_;  // ends Heartbeat and WriteLoop of this session
  CloseSocket();
  RequeueInflight();
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> Bridge::Handshake(uint64_t gen) {
  boost::system::error_code ec;
  tcp::resolver resolver(io_);
  auto endpoints = co_await resolver.async_resolve(config_.host, std::to_string(config_.port),
                                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return absl::UnavailableError("resolve: " + ec.message());
  co_await asio::async_connect(stream_->next_layer(), endpoints,
                               asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return absl::UnavailableError("connect: " + ec.message());
  stream_->next_layer().set_option(tcp::no_delay(true), ec);
  if (config_.tls) {
    SSL_set_tlsext_host_name(stream_->native_handle(), config_.host.c_str());
    co_await stream_->async_handshake(asio::ssl::stream_base::client,
                                      asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return absl::UnavailableError("TLS handshake: " + ec.message());
  }
  codec::Connect connect;
  connect.version = static_cast<ProtocolVersion>(config_.version);
  connect.client_id = config_.client_id;
  connect.clean_start = config_.clean_start;
  connect.keep_alive = config_.keep_alive;
  connect.username = config_.username;
  connect.password = config_.password;
  SendPacket(connect);
  std::string buf(4096, '\0');
  while (gen == gen_) {
    size_t n = config_.tls ? co_await stream_->async_read_some(
                                 asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec))
                           : co_await stream_->next_layer().async_read_some(
                                 asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return absl::UnavailableError("waiting for CONNACK: " + ec.message());
    decoder_.Feed(std::string_view(buf.data(), n));
    codec::DecodeResult r = decoder_.Next();
    if (r.status == codec::DecodeStatus::kNeedMore) continue;
    auto* connack = std::get_if<codec::Connack>(&r.packet);
    if (r.status != codec::DecodeStatus::kPacket || connack == nullptr) {
      co_return absl::UnavailableError("expected CONNACK");
    }
    if (connack->reason_code != codec::ReasonCode::kSuccess) {
      co_return absl::PermissionDeniedError(std::string("CONNACK refused: ") +
                                            std::string(codec::ReasonCodeName(connack->reason_code)));
    }
    // Anything pipelined behind the CONNACK stays buffered in the decoder for Session().
    co_return absl::OkStatus();
  }
  co_return absl::CancelledError("stopped");
}

asio::awaitable<void> Bridge::Heartbeat(uint64_t gen) {
  asio::steady_timer timer(io_);
  while (gen == gen_ && !stopped_) {
    timer.expires_after(std::chrono::milliseconds(250));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (gen != gen_ || stopped_) break;
    const auto now = Clock::now();
    if (now > deadline_ && (!connected_ || config_.keep_alive > 0)) {
      spdlog::warn("bridge {}: remote silent past the deadline; closing", config_.name);
      CloseSocket();
      break;
    }
    if (connected_ && config_.keep_alive > 0 &&
        now - last_sent_ >= std::chrono::seconds(config_.keep_alive) / 2) {
      SendPacket(codec::Pingreq{});
    }
  }
}

void Bridge::SendPacket(const codec::Packet& packet) {
  std::string bytes;
  codec::Encode(packet, static_cast<ProtocolVersion>(config_.version), bytes);
  write_queue_.push_back(std::move(bytes));
  last_sent_ = Clock::now();
  if (!writing_) {
    writing_ = true;
    asio::co_spawn(io_, [self = shared_from_this(), gen = gen_] { return self->WriteLoop(gen); },
                   asio::detached);
  }
}

asio::awaitable<void> Bridge::WriteLoop(uint64_t gen) {
  while (gen == gen_ && !write_queue_.empty()) {
    std::string bytes = std::move(write_queue_.front());
    write_queue_.pop_front();
    boost::system::error_code ec;
    if (config_.tls) {
      co_await asio::async_write(*stream_, asio::buffer(bytes),
                                 asio::redirect_error(asio::use_awaitable, ec));
    } else {
      co_await asio::async_write(stream_->next_layer(), asio::buffer(bytes),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec) {
      CloseSocket();  // the reader sees the error and ends the session
      break;
    }
  }
  if (gen == gen_) writing_ = false;
}

uint16_t Bridge::NextPacketId() {
  do {
    if (++next_id_ == 0) next_id_ = 1;
  } while (inflight_.contains(next_id_));
  return next_id_;
}

void Bridge::OnLocalMessage(codec::Publish p) {
  if (stopped_) return;
  uint8_t qos = 0;
  std::optional<std::string> remote = MapTopic(config_.out, p.topic, &qos);
  if (!remote) return;
  // The bound is on the waiting queue; the in-flight window (max_inflight) is bounded on its own
  // and rejoins the queue's front on a disconnect, so at most queue_size + max_inflight wait.
  if (queue_.size() >= config_.queue_size) {
    stats_->dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  codec::Publish out = Remapped(std::move(p), std::move(*remote), qos);
  out.properties.user_properties.emplace_back(kOriginProperty, origin_);
  queue_.push_back(Outgoing{std::move(out), ++next_seq_, false});
  Pump();
}

void Bridge::Pump() {
  while (connected_ && !queue_.empty() &&
         inflight_.size() < static_cast<size_t>(config_.max_inflight)) {
    Outgoing o = std::move(queue_.front());
    queue_.pop_front();
    o.released = false;
    if (o.publish.qos > 0) o.publish.packet_id = NextPacketId();
    SendPacket(o.publish);
    if (config_.version != 5) RememberSent(o.publish);
    if (o.publish.qos == 0) {
      stats_->messages_out.fetch_add(1, std::memory_order_relaxed);
    } else {
      const uint16_t id = o.publish.packet_id;
      inflight_.emplace(id, std::move(o));
    }
  }
  stats_->queued = static_cast<int64_t>(queue_.size());
}

void Bridge::RequeueInflight() {
  // Unacknowledged messages go first on the next connection (at least once: a QoS 2 message
  // whose PUBREC was lost may arrive twice; the remote session was not kept).
  std::vector<Outgoing> back;
  for (auto& [id, o] : inflight_) back.push_back(std::move(o));
  inflight_.clear();
  std::sort(back.begin(), back.end(), [](const Outgoing& a, const Outgoing& b) { return a.seq < b.seq; });
  for (auto it = back.rbegin(); it != back.rend(); ++it) queue_.push_front(std::move(*it));
  stats_->queued = static_cast<int64_t>(queue_.size());
}

void Bridge::OnPacket(codec::Packet& packet) {
  if (auto* p = std::get_if<codec::Publish>(&packet)) {
    OnRemotePublish(*p);
  } else if (auto* ack = std::get_if<codec::Puback>(&packet)) {
    if (inflight_.erase(ack->packet_id) > 0) {
      stats_->messages_out.fetch_add(1, std::memory_order_relaxed);
      Pump();
    }
  } else if (auto* rec = std::get_if<codec::Pubrec>(&packet)) {
    auto it = inflight_.find(rec->packet_id);
    if (static_cast<uint8_t>(rec->reason_code) >= 0x80) {
      if (it != inflight_.end()) {
        inflight_.erase(it);
        stats_->dropped.fetch_add(1, std::memory_order_relaxed);
        Pump();
      }
      return;
    }
    if (it != inflight_.end()) it->second.released = true;
    SendPacket(Ack<codec::Pubrel>(rec->packet_id));
  } else if (auto* comp = std::get_if<codec::Pubcomp>(&packet)) {
    if (inflight_.erase(comp->packet_id) > 0) {
      stats_->messages_out.fetch_add(1, std::memory_order_relaxed);
      Pump();
    }
  } else if (auto* rel = std::get_if<codec::Pubrel>(&packet)) {
    incoming_qos2_.erase(rel->packet_id);
    SendPacket(Ack<codec::Pubcomp>(rel->packet_id));
  } else if (auto* suback = std::get_if<codec::Suback>(&packet)) {
    for (size_t i = 0; i < suback->reason_codes.size() && i < config_.in.size(); ++i) {
      if (static_cast<uint8_t>(suback->reason_codes[i]) >= 0x80) {
        spdlog::error("bridge {}: remote refused the subscription to {}", config_.name,
                      config_.in[i].filter);
      }
    }
  } else if (auto* d = std::get_if<codec::Disconnect>(&packet)) {
    spdlog::warn("bridge {}: remote sent DISCONNECT ({})", config_.name,
                 codec::ReasonCodeName(d->reason_code));
    CloseSocket();
  }
}

void Bridge::OnRemotePublish(codec::Publish& p) {
  const bool duplicate_qos2 = p.qos == 2 && !incoming_qos2_.insert(p.packet_id).second;
  if (p.qos == 1) SendPacket(Ack<codec::Puback>(p.packet_id));
  if (p.qos == 2) SendPacket(Ack<codec::Pubrec>(p.packet_id));
  if (duplicate_qos2) return;  // delivered when it first came [MQTT-4.3.3-9]
  for (const auto& [k, v] : p.properties.user_properties) {
    if (k == kOriginProperty && v == origin_) return;  // our own message coming back
  }
  if (config_.version != 5 && IsEcho(p)) return;
  uint8_t qos = 0;
  std::optional<std::string> local = MapTopic(config_.in, p.topic, &qos);
  if (!local) return;
  stats_->messages_in.fetch_add(1, std::memory_order_relaxed);
  local_->Publish(Remapped(std::move(p), std::move(*local), qos));
}

void Bridge::RememberSent(const codec::Publish& p) {
  const auto now = Clock::now();
  while (!sent_fingerprints_.empty() &&
         (now - sent_fingerprints_.front().first > kEchoWindow || sent_fingerprints_.size() > 10000)) {
    auto it = sent_set_.find(sent_fingerprints_.front().second);
    if (it != sent_set_.end()) sent_set_.erase(it);
    sent_fingerprints_.pop_front();
  }
  const size_t f = Fingerprint(p);
  sent_fingerprints_.emplace_back(now, f);
  sent_set_.insert(f);
}

bool Bridge::IsEcho(const codec::Publish& p) {
  auto it = sent_set_.find(Fingerprint(p));
  if (it == sent_set_.end()) return false;
  sent_set_.erase(it);  // one echo per message sent; the deque entry ages out on its own
  return true;
}

}  // namespace meshmq::bridge
