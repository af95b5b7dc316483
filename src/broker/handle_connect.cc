// CONNECT: validation, session lookup or takeover (same shard, other shard, other node), CONNACK.
#include <random>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "broker/broker.h"
#include "broker/client.h"
#include "broker/session_codec.h"
#include "broker/shard.h"
#include "auth/address_range.h"
#include "codec/topic_rules.h"

namespace meshmq::broker {

using codec::ProtocolVersion;
using codec::ReasonCode;

namespace {

std::string GenerateClientId() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "meshmq-";
  uint64_t v = rng();
  for (int i = 0; i < 16; ++i) id.push_back(kHex[(v >> (i * 4)) & 0xF]);
  return id;
}

int64_t CurrentConnections(Broker& broker) {
  int64_t n = 0;
  for (int i = 0; i < broker.shard_count(); ++i) {
    n += broker.shard(i).stats().connections_current.load(std::memory_order_relaxed);
  }
  return n;
}

}  // namespace

void Client::HandleConnect(codec::Connect& connect) {
  const BrokerOptions& options = shard_.broker().options();
  version_ = connect.version;
  clean_start_ = connect.clean_start;
  has_username_ = connect.username.has_value();
  if (connect.username) names().username = *connect.username;

  if (shard_.broker().stopping()) {
    CloseWith(ReasonCode::kServerUnavailable);
    return;
  }
  // Connection limit: this connection is already counted, hence '>'.
  if (options.max_connections > 0 && CurrentConnections(shard_.broker()) > options.max_connections) {
    CloseWith(version_ == ProtocolVersion::kV5 ? ReasonCode::kQuotaExceeded
                                                : ReasonCode::kServerUnavailable);
    return;
  }
  // Above the memory high-water mark no new session is started; a client resuming its session
  // (clean start 0) is let in, since it is the one that drains a queue.
  if (clean_start_ && shard_.broker().memory_overloaded()) {
    shard_.NoteOverload(OverloadEvent::kConnectionRefusedMemory, remote_address());
    CloseWith(version_ == ProtocolVersion::kV5 ? ReasonCode::kServerBusy
                                                : ReasonCode::kServerUnavailable);
    return;
  }
  bool assigned_id = false;
  names().client_id = std::move(connect.client_id);
  if (client_id().empty()) {
    // [MQTT-3.1.3-8] 3.1.1 requires clean session for an empty id; 3.1 has no empty ids.
    if (version_ == ProtocolVersion::kV31 ||
        (version_ == ProtocolVersion::kV311 && !clean_start_)) {
      CloseWith(ReasonCode::kClientIdentifierNotValid);
      return;
    }
    names().client_id = GenerateClientId();
    assigned_id = version_ == ProtocolVersion::kV5;
  }
  const std::string& trace_prefix = options.trace_clients;
  trace_ = !trace_prefix.empty() && client_id().starts_with(trace_prefix);
  if (trace_) spdlog::info("trace {} <- CONNECT v{} from {}", client_id(), int(version_), remote_address());
  if (connect.properties.authentication_method) {
    // Enhanced authentication (AUTH exchanges) is not offered [MQTT-4.12.0-1].
    CloseWith(ReasonCode::kBadAuthenticationMethod);
    return;
  }
  if (connect.will) {
    if (!codec::IsValidTopicName(connect.will->topic)) {
      CloseWith(ReasonCode::kTopicNameInvalid);
      return;
    }
    will_ = std::make_unique<codec::Will>(std::move(*connect.will));
  }

  // Keep alive, possibly overridden by the server [MQTT-3.2.2-21].
  keep_alive_s_ = connect.keep_alive;
  bool keep_alive_changed = false;
  if (options.max_keep_alive > 0 && (keep_alive_s_ == 0 || keep_alive_s_ > options.max_keep_alive) &&
      version_ == ProtocolVersion::kV5) {
    keep_alive_s_ = options.max_keep_alive;
    keep_alive_changed = true;
  }

  // Session lifetime: 3.x clean session = ends with the connection, else never expires.
  const auto& props = connect.properties;
  if (version_ == ProtocolVersion::kV5) {
    requested_expiry_s_ = props.session_expiry_interval.value_or(0);
    if (props.receive_maximum) client_receive_maximum_ = *props.receive_maximum;
    if (props.maximum_packet_size) client_max_packet_size_ = *props.maximum_packet_size;
    if (props.topic_alias_maximum) client_topic_alias_max_ = *props.topic_alias_maximum;
    if (props.request_problem_information) {
      request_problem_information_ = *props.request_problem_information != 0;
    }
  } else {
    requested_expiry_s_ = clean_start_ ? 0 : 0xFFFFFFFFu;
  }
  bool expiry_capped = false;
  if (requested_expiry_s_ > options.max_session_expiry) {
    requested_expiry_s_ = options.max_session_expiry;
    expiry_capped = version_ == ProtocolVersion::kV5;
  }

  // CONNACK properties (v5), sent by FinishConnect.
  connack_props_.reset();
  if (version_ == ProtocolVersion::kV5) {
    connack_props_ = std::make_unique<codec::Properties>();
    connack_props_->receive_maximum = options.max_inflight;
    connack_props_->maximum_packet_size = options.max_packet_size;
    connack_props_->topic_alias_maximum = options.max_topic_alias;
    if (assigned_id) connack_props_->assigned_client_identifier = client_id();
    if (keep_alive_changed) connack_props_->server_keep_alive = keep_alive_s_;
    if (expiry_capped) connack_props_->session_expiry_interval = requested_expiry_s_;
  }

  state_ = State::kConnecting;
  superuser_ = channel_.Trusted();  // a bridge's local side: configured by the operator
  if (!shard_.broker().hooks().empty() && !superuser_) {
    // The built-in password file / HTTP service is the first hook when configured (src/app).
    Authenticate(std::make_shared<const std::optional<std::string>>(std::move(connect.password)));
    return;
  }
  ClaimSession();
}

auth::ClientInfo Client::Identity() const {
  auth::ClientInfo who;
  who.username = username();
  who.has_username = has_username_;
  who.client_id = client_id();
  who.address = auth::PeerIp(remote_address());
  return who;
}

void Client::OnAuthenticated(int result, bool superuser) {
  if (state_ != State::kConnecting) return;
  switch (static_cast<auth::AuthResult>(result)) {
    case auth::AuthResult::kAllowed:
      break;
    case auth::AuthResult::kBadCredentials:
      CloseWith(ReasonCode::kBadUserNameOrPassword, false);  // 3.x: return code 4
      return;
    case auth::AuthResult::kNotAuthorized:
      CloseWith(ReasonCode::kNotAuthorized, false);  // 3.x: return code 5
      return;
    case auth::AuthResult::kRateLimited:
      CloseWith(version_ == ProtocolVersion::kV5 ? ReasonCode::kConnectionRateExceeded
                                                  : ReasonCode::kServerUnavailable,
                false);
      return;
  }
  superuser_ = superuser;
  if (will_ && FetchAcl({{Action::kPublish, will_->topic}}, &Client::CheckWillThenClaim)) return;
  CheckWillThenClaim();
}

void Client::CheckWillThenClaim() {
  if (state_ != State::kConnecting) return;
  // A will the client may not publish is refused with the connection [MQTT-3.1.2-?].
  bool will_allowed = !will_ || Authorized(auth::Action::kPublish, will_->topic);
  acl_fetched_.reset();  // the will's verdicts answer for the will only
  if (!will_allowed) {
    CloseWith(ReasonCode::kNotAuthorized, false);
    return;
  }
  ClaimSession();
}

codec::ReasonCode Client::DenialCode() const {
  auth::AuthService* service = shard_.broker().auth();
  return service != nullptr && service->ThreadAcl().hide_denials() ? ReasonCode::kUnspecifiedError
                                                                    : ReasonCode::kNotAuthorized;
}

SessionOwner Client::Owner() const {
  return SessionOwner{.username = username(),
                      .address = std::string(auth::PeerIp(remote_address())),
                      .has_username = has_username_,
                      .superuser = superuser_};
}

// Finds this client id's session wherever it is on this node, or asks the cluster, then
// continues in ContinueConnect on this shard.
void Client::ClaimSession() {
  Broker& broker = shard_.broker();
  ClientRegistry::Claim claim = broker.registry().Acquire(client_id(), shard_.index());
  claim_token_ = claim.token;
  if (claim.previous_shard == shard_.index()) {
    Session* existing = shard_.FindSession(client_id());
    if (existing != nullptr && existing->client != nullptr && existing->client != this) {
      // [MQTT-3.1.4-3] The old connection goes (v5: DISCONNECT 0x8E); a session that ended with
      // it is gone afterwards, so look it up again.
      existing->client->CloseWith(ReasonCode::kSessionTakenOver);
      existing = shard_.FindSession(client_id());
    }
    ContinueConnect(existing, std::nullopt);
    return;
  }
  uint64_t my_id = id_;
  Shard* home = &shard_;
  std::string client_id = this->client_id();
  if (claim.previous_shard >= 0) {
    Shard& previous = broker.shard(claim.previous_shard);
    // Messages this shard already routed there reach the session before it is taken away.
    shard_.FlushHandoffs();
    boost::asio::post(previous.io(), [&previous, home, my_id, client_id] {
      std::optional<SessionState> state;
      if (Session* s = previous.FindSession(client_id)) {
        if (s->client != nullptr) s->client->CloseWith(ReasonCode::kSessionTakenOver);
        // CloseWith may have destroyed a session that ends with its connection.
        if (Session* still = previous.FindSession(client_id)) state = previous.ExtractSession(*still);
      }
      boost::asio::post(home->io(), [home, my_id, state = std::move(state)]() mutable {
        if (Client* c = home->FindClient(my_id)) c->ContinueConnect(nullptr, std::move(state));
      });
    });
    return;
  }
  if (broker.cluster() != nullptr) {
    broker.cluster()->ClaimClientId(
        client_id, [home, my_id](std::optional<std::string> bytes) {
          boost::asio::post(home->io(), [home, my_id, bytes = std::move(bytes)] {
            std::optional<SessionState> state;
            if (bytes) state = DecodeSessionState(*bytes);
            if (Client* c = home->FindClient(my_id)) c->ContinueConnect(nullptr, std::move(state));
          });
        });
    return;
  }
  ContinueConnect(nullptr, std::nullopt);
}

void Client::ContinueConnect(Session* existing, std::optional<SessionState> moved) {
  if (state_ != State::kConnecting) return;
  Broker& broker = shard_.broker();
  if (!broker.registry().IsOwner(client_id(), claim_token_)) {
    // A newer CONNECT with the same client id won the race while we waited.
    CloseWith(ReasonCode::kSessionTakenOver, false);
    return;
  }
  bool present = false;
  Session* session = existing;
  if (session == nullptr) {
    session = &shard_.CreateSession(client_id());
    session->owner = Owner();  // before the moved subscriptions: their ACL scope depends on it
    if (moved) {
      std::vector<StoredSubscription> subs = std::move(moved->subscriptions);
      session->Import(std::move(*moved));
      for (const auto& sub : subs) shard_.Subscribe(*session, sub);
      present = true;
    }
  } else {
    present = true;
  }
  session->registry_token = claim_token_;
  if (clean_start_ && present) {
    // [MQTT-3.1.2-4] Clean start discards the previous session.
    shard_.DestroySession(*session, /*release_id=*/false);
    session = &shard_.CreateSession(client_id());
    session->owner = Owner();
    session->registry_token = claim_token_;
    present = false;
  }
  FinishConnect(*session, present);
}

void Client::FinishConnect(Session& session, bool session_present) {
  if (session.client == nullptr) Add(shard_.stats().sessions_offline, -1);
  SessionOwner owner = Owner();  // from the CONNECT's names, before the session's are read
  session_ = &session;
  session.client = this;
  names_.reset();  // client_id() and username() read the session's copies until DetachSession
  session.version = version_;
  session.expiry_interval_s = requested_expiry_s_;
  if (!(session.owner == owner)) {
    // Resumed by another user or from another address: the ACL scope of every subscription is
    // worked out again for the new owner (re-subscribing replaces the options in place).
    session.owner = std::move(owner);
    std::vector<StoredSubscription> subs;
    for (const auto& [filter, sub] : session.subscriptions) subs.push_back(sub);
    for (const auto& sub : subs) shard_.Subscribe(session, sub);
  }
  session.CancelTimers();
  if (SessionRare* rare = session.rare()) {
    // The client came back before its will delay ended: no will [MQTT-3.1.3-9].
    rare->pending_will.reset();
  }
  session.TrimRare();  // an online session needs none of it unless it just moved here
  state_ = State::kConnected;
  last_packet_at_ = std::chrono::steady_clock::now();
  shard_.SyncSessionToStore(session);

  codec::Connack connack;
  connack.session_present = session_present;
  if (connack_props_) connack.properties = std::move(*connack_props_);
  connack_props_.reset();
  Send(connack);
  if (HookChain& hooks = shard_.broker().hooks(); !hooks.empty()) {
    meshmq::ClientInfo info = HookInfo();
    session_present ? hooks.SessionResumed(info) : hooks.SessionCreated(info);
    hooks.Connected(info);
  }
  spdlog::debug("client {} connected from {} (v{}, clean {}, present {})", client_id(),
                remote_address(), static_cast<int>(version_), clean_start_, session_present);
  if (ClusterPort* cluster = shard_.broker().cluster()) {
    cluster->ClientConnected(client_id(), NowMs());
  }
  ArmTimer();
  ResendInflight();
  DrainQueue();
  DrainPending();
}

}  // namespace meshmq::broker
