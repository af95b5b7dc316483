#include "broker/client.h"

#include <exception>
#include <utility>

#include <spdlog/spdlog.h>

#include "broker/broker.h"
#include "broker/shard.h"
#include "codec/body_decoders.h"
#include "codec/encoder.h"

namespace meshmq::broker {

using codec::ProtocolVersion;
using codec::ReasonCode;

namespace {

// `version` is the CONNECT's, also when that CONNECT failed to decode (OnDecodeError).
bool ConnackCanCarry(ReasonCode reason, ProtocolVersion version) {
  if (reason == ReasonCode::kSuccess) return false;
  if (version == ProtocolVersion::kV5) return static_cast<uint8_t>(reason) >= 0x80;
  switch (reason) {
    case ReasonCode::kUnsupportedProtocolVersion:
    case ReasonCode::kClientIdentifierNotValid:
    case ReasonCode::kBadUserNameOrPassword:
    case ReasonCode::kNotAuthorized:
    case ReasonCode::kServerUnavailable:
    case ReasonCode::kServerBusy:
    case ReasonCode::kQuotaExceeded:
    case ReasonCode::kBanned:
      return true;
    default:
      return false;
  }
}

}  // namespace

Client::Client(Shard& shard, ClientChannel& channel, uint64_t id)
    : shard_(shard),
      channel_(channel),
      id_(id),
      publish_limits_(MakePublishLimits(shard.broker().options())) {
  last_packet_at_ = std::chrono::steady_clock::now();  // also the start of the connect timeout
  shard_.AddClient(this);
  Inc(shard_.stats().connections_total);
  Add(shard_.stats().connections_current, 1);
  ArmTimer();
}

Client::~Client() {
  if (state_ != State::kClosed) OnTransportClosed();
  shard_.RemoveClient(this);
  Add(shard_.stats().connections_current, -1);
}

void Client::OnBytes(std::string_view bytes) {
  if (state_ == State::kClosed) return;
  Inc(shard_.stats().bytes_received, bytes.size());
  // No bytes: the transport resumes after a pause (PauseReading). After a publish-rate pause
  // the client kept sending while we did not read, so the pause does not count against its keep
  // alive; a pause for its own unread backlog does (a dead subscriber must still time out).
  if (bytes.empty() && channel_.QueuedBytes() <= shard_.broker().options().max_outbound_bytes) {
    last_packet_at_ = std::chrono::steady_clock::now();
  }
  // `bytes` is the transport's (shared) read buffer: the decoder reads packets in place and
  // copies only an incomplete tail, so an idle client owns no input buffer. Nor a decoder: one
  // on the stack decodes this read, told what the connection already knows (the version, that
  // CONNECT was seen); only bytes left over (a packet split across reads, or a pause) make it
  // the client's own until they are decoded.
  codec::Decoder fresh(codec::DecodeRole::kServer, shard_.broker().options().max_packet_size);
  codec::Decoder& decoder = partial_ ? *partial_ : fresh;
  if (!partial_ && connect_decoded_) fresh.set_version(version_);
  decoder.FeedBorrowed(bytes);
  struct KeepOnExit {
    Client& client;
    codec::Decoder& decoder;
    ~KeepOnExit() { client.KeepDecoder(decoder); }
  } keep{*this, decoder};
  bool stamped = false;
  // The publishes of one read that go to other shards leave as one task per shard.
  Shard::HandoffBatch handoffs(shard_);
  while (state_ != State::kClosed) {
    // Back-pressure: what is already decoded-able waits in the decoder until the pause ends.
    if (auto wait = ReadPause(); wait > std::chrono::steady_clock::duration::zero()) {
      channel_.PauseReading(wait);
      return;
    }
    codec::DecodeResult result = decoder.Next();
    if (result.status == codec::DecodeStatus::kNeedMore) return;
    if (result.status == codec::DecodeStatus::kError) {
      if (state_ == State::kAwaitConnect) version_ = decoder.version();  // of a bad CONNECT
      codec::DecodeError error = result.error;
      // A malformed second CONNECT fails with CONNECT's own codes (e.g. 0x84), which only a
      // CONNACK may carry; after CONNECT it is a Protocol Error anyway [MQTT-3.1.0-2].
      if (connect_decoded_ &&
          !codec::internal::IsReasonCodeAllowed(codec::PacketType::kDisconnect,
                                      static_cast<uint8_t>(error.reason))) {
        error.reason = ReasonCode::kProtocolError;
      }
      OnDecodeError(error);
      return;
    }
    if (std::holds_alternative<codec::Connect>(result.packet)) {
      // [MQTT-3.1.0-2]: a second CONNECT is a Protocol Error (a fresh decoder cannot tell).
      if (connect_decoded_) {
        OnDecodeError({ReasonCode::kProtocolError, "second CONNECT"});
        return;
      }
      connect_decoded_ = true;
      version_ = decoder.version();
    }
    if (!stamped) {
      // Packets of one read arrived together: one clock read per read, not per packet (it was
      // ~3 % of the publish path's CPU with small messages).
      last_packet_at_ = std::chrono::steady_clock::now();
      stamped = true;
    }
    if (state_ == State::kConnecting || acl_waiting_) {
      // Pipelined after CONNECT while the session is being taken over (or behind a packet that
      // waits for the HTTP ACL); bounded so a client can't make us buffer without limit.
      if (pending_.size() >= 1000) {
        CloseWith(ReasonCode::kQuotaExceeded);
        return;
      }
      pending_.push_back(std::move(result.packet));
      continue;
    }
    Process(std::move(result.packet));
  }
}

void Client::Trace(const char* direction, const codec::Packet& packet) const {
  if (const auto* p = std::get_if<codec::Publish>(&packet)) {
    spdlog::info("trace {} {} PUBLISH topic='{}' qos={} retain={} dup={} id={} bytes={}", client_id(),
                 direction, p->topic, p->qos, p->retain, p->dup, p->packet_id, p->payload.size());
    return;
  }
  spdlog::info("trace {} {} {}", client_id(), direction, codec::PacketTypeName(codec::TypeOf(packet)));
}

void Client::SafeDispatch(codec::Packet&& packet) {
  if (trace_) Trace("<-", packet);
  // Contain a bug in one session: close it, count it, keep the node up (the supervisor of the
  // Go original).
  try {
    Dispatch(std::move(packet));
  } catch (const std::exception& e) {
    Inc(shard_.stats().session_failures);
    spdlog::error("client {}: contained failure in handler: {}", client_id(), e.what());
    CloseWith(ReasonCode::kImplementationSpecificError);
  }
}

void Client::Dispatch(codec::Packet&& packet) {
  if (state_ == State::kAwaitConnect && !std::holds_alternative<codec::Connect>(packet)) {
    // [MQTT-3.1.0-1] The first packet must be CONNECT.
    CloseWith(ReasonCode::kProtocolError, false);
    return;
  }
  std::visit(
      [this](auto& p) {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, codec::Connect>) {
          HandleConnect(p);
        } else if constexpr (std::is_same_v<T, codec::Publish>) {
          HandlePublish(p);
        } else if constexpr (std::is_same_v<T, codec::Puback>) {
          HandlePuback(p);
        } else if constexpr (std::is_same_v<T, codec::Pubrec>) {
          HandlePubrec(p);
        } else if constexpr (std::is_same_v<T, codec::Pubrel>) {
          HandlePubrel(p);
        } else if constexpr (std::is_same_v<T, codec::Pubcomp>) {
          HandlePubcomp(p);
        } else if constexpr (std::is_same_v<T, codec::Subscribe>) {
          HandleSubscribe(p);
        } else if constexpr (std::is_same_v<T, codec::Unsubscribe>) {
          HandleUnsubscribe(p);
        } else if constexpr (std::is_same_v<T, codec::Pingreq>) {
          Send(codec::Pingresp{});
        } else if constexpr (std::is_same_v<T, codec::Disconnect>) {
          HandleDisconnect(p);
        } else if constexpr (std::is_same_v<T, codec::Auth>) {
          HandleAuth(p);
        } else {
          // Packets only a server sends [MQTT-4.8.0-1].
          CloseWith(ReasonCode::kProtocolError);
        }
      },
      packet);
}

void Client::OnDecodeError(const codec::DecodeError& error) {
  Inc(shard_.stats().protocol_errors);
  spdlog::debug("client {} ({}): {} ({})", client_id(), remote_address(), error.detail,
                codec::ReasonCodeName(error.reason));
  CloseWith(error.reason);
}

void Client::KeepDecoder(codec::Decoder& decoder) {
  decoder.Adopt();
  if (decoder.buffered() == 0 || state_ == State::kClosed) {
    partial_.reset();  // nothing pending: back to no decoder of our own
  } else if (!partial_) {
    partial_ = std::make_unique<codec::Decoder>(std::move(decoder));
  }
}

void Client::Send(const codec::Packet& packet) {
  if (state_ == State::kClosed) return;
  if (trace_) Trace("->", packet);
  std::string& scratch = Scratch();
  scratch.clear();
  codec::Encode(packet, version_, scratch);
  Inc(shard_.stats().bytes_sent, scratch.size());
  channel_.Send(scratch);
}

// Buckets only when a publish rate limit is configured. One second's worth may be spent at once
// after a quiet period.
std::unique_ptr<Client::PublishBuckets> Client::MakePublishLimits(const BrokerOptions& options) {
  if (options.max_publish_rate == 0 && options.max_publish_bytes_rate == 0) return nullptr;
  return std::make_unique<PublishBuckets>(PublishBuckets{
      TokenBucket(options.max_publish_rate, options.max_publish_rate),
      TokenBucket(options.max_publish_bytes_rate, options.max_publish_bytes_rate)});
}

const std::string& Client::EmptyName() {
  static const std::string* const empty = new std::string();
  return *empty;
}

std::string& Client::Scratch() {
  thread_local std::string scratch;
  return scratch;
}

void Client::SendAck(codec::Packet ack, uint64_t ticket, int other_shards) {
  if (shard_.broker().storage() == nullptr) {
    Send(ack);
    return;
  }
  uint64_t epoch = shard_.commit_epoch() + 1;
  held_acks_.push_back(HeldAck{std::move(ack), ticket, epoch, other_shards});
  if (waiting_for_epoch_ != epoch) {  // once per commit, however many acks this turn made
    waiting_for_epoch_ = epoch;
    shard_.WaitForCommit(id_);
  }
}

void Client::ReleaseAcks() {
  while (!held_acks_.empty() && state_ != State::kClosed) {
    HeldAck& front = held_acks_.front();
    if (front.other_shards > 0 || front.epoch > shard_.commit_epoch()) return;
    Send(front.packet);
    held_acks_.pop_front();
  }
}

void Client::OnRemoteStored(uint64_t ticket, bool ok) {
  if (!ok) {
    CloseWith(ReasonCode::kUnspecifiedError);  // not stored there: no ack, the client resends
    return;
  }
  for (auto& held : held_acks_) {
    if (held.ticket == ticket && held.other_shards > 0) {
      --held.other_shards;
      break;
    }
  }
  ReleaseAcks();
}

void Client::CloseWith(ReasonCode reason, bool publish_will) {
  if (state_ == State::kClosed) return;
  if (state_ == State::kAwaitConnect || state_ == State::kConnecting) {
    // An error before the session started is answered with a CONNACK where the protocol has a
    // code for it [MQTT-3.2.2-6]; 3.x has only return codes 1-5.
    if (ConnackCanCarry(reason, version_)) {
      codec::Connack connack;
      connack.reason_code = reason;
      Send(connack);
    }
  } else if (version_ == ProtocolVersion::kV5 && reason != ReasonCode::kSuccess) {
    codec::Disconnect disconnect;
    disconnect.reason_code = reason;
    Send(disconnect);
  }
  DetachSession(publish_will && reason != ReasonCode::kSuccess);
  state_ = State::kClosed;
  CancelTimer();
  channel_.Close();
}

void Client::OnTransportClosed() {
  if (state_ == State::kClosed) return;
  // The network went away without DISCONNECT: the will is published [MQTT-3.1.2-8].
  DetachSession(true);
  state_ = State::kClosed;
  CancelTimer();
}

void Client::ArmTimer() {
  using std::chrono::milliseconds;
  milliseconds wait;
  if (state_ == State::kAwaitConnect || state_ == State::kConnecting) {
    wait = milliseconds(shard_.broker().options().connect_timeout_ms);
  } else if (keep_alive_s_ > 0) {
    wait = milliseconds(keep_alive_s_ * 1500);  // [MQTT-3.1.2-24] one and a half times
  } else {
    CancelTimer();  // keep alive 0: no timeout at all, not even the connect timeout's
    return;
  }
  // In kAwaitConnect this runs once, from the constructor, so last_packet_at_ is the accept time
  // (bytes of an unfinished CONNECT do not push the connect timeout back).
  auto deadline = last_packet_at_ + wait;
  deadline_ = deadline;
  // One entry per client in the shard's queue: an entry already queued for an earlier time
  // re-queues this later deadline when it comes up (OnDeadline). So the connect timeout made
  // stale by CONNECT is not joined by a second entry for the keep-alive deadline.
  if (queued_at_ <= deadline) return;
  queued_at_ = deadline;
  shard_.WatchDeadline(id_, deadline);
}

void Client::OnDeadline(std::chrono::steady_clock::time_point deadline) {
  if (deadline != queued_at_) return;  // superseded by an earlier entry
  queued_at_ = std::chrono::steady_clock::time_point::max();
  if (deadline_ == std::chrono::steady_clock::time_point::max()) return;  // cancelled
  if (deadline_ > deadline) {  // re-armed for later since: queue that one now
    queued_at_ = deadline_;
    shard_.WatchDeadline(id_, deadline_);
    return;
  }
  CancelTimer();
  OnTimer();
}

void Client::OnTimer() {
  if (state_ == State::kClosed) return;
  auto now = std::chrono::steady_clock::now();
  if (state_ == State::kAwaitConnect || state_ == State::kConnecting) {
    spdlog::debug("connection from {}: no CONNECT within the connect timeout", remote_address());
    state_ = State::kClosed;
    channel_.Close();
    return;
  }
  if (keep_alive_s_ == 0) return;  // keep alive off [MQTT-3.1.2-22]
  auto limit = std::chrono::milliseconds(keep_alive_s_ * 1500);
  if (now - last_packet_at_ >= limit) {
    spdlog::debug("client {}: keep alive timeout", client_id());
    CloseWith(ReasonCode::kKeepAliveTimeout);
    return;
  }
  ArmTimer();
}

}  // namespace meshmq::broker
