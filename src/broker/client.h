// One MQTT connection's protocol state machine: bytes in (OnBytes), packets out (through its
// ClientChannel). Sans-I/O: no sockets here; timers come from the shard's io_context.
//
// Owned by the transport connection; lives on one shard and is touched only by its thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>


#include "absl/container/flat_hash_map.h"
#include "auth/client_info.h"
#include "broker/client_channel.h"
#include "broker/hook_chain.h"
#include "broker/lazy_deque.h"
#include "broker/lazy_map.h"
#include "meshmq/hooks.h"
#include "broker/session.h"
#include "broker/token_bucket.h"
#include "codec/decoder.h"
#include "codec/packets.h"

namespace meshmq::broker {

class Shard;
struct BrokerOptions;

class Client {
 public:
  enum class State : uint8_t { kAwaitConnect, kConnecting, kConnected, kClosed };

  Client(Shard& shard, ClientChannel& channel, uint64_t id);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Transport entry points.
  void OnBytes(std::string_view bytes);
  void OnTransportClosed();

  // Used by the shard and handlers.
  uint64_t id() const { return id_; }
  State state() const { return state_; }
  codec::ProtocolVersion version() const { return version_; }
  Session* session() const { return session_; }
  // While connected the id is the session's (one copy per connection instead of two).
  const std::string& client_id() const {
    if (session_ != nullptr) return session_->client_id;
    return names_ ? names_->client_id : EmptyName();
  }
  const std::string& username() const {
    if (session_ != nullptr) return session_->owner.username;
    return names_ ? names_->username : EmptyName();
  }
  const std::string& remote_address() const { return channel_.RemoteAddress(); }
  uint16_t keep_alive() const { return keep_alive_s_; }
  Shard& shard() { return shard_; }

  // Closes the connection for `reason`: v5 clients get DISCONNECT (or CONNACK before CONNECT
  // completed) with that code first. Normal (kSuccess) closes send nothing for 3.x.
  void CloseWith(codec::ReasonCode reason, bool publish_will = true);
  // Closes at once without flushing what is queued (slow consumer); the will is published.
  void Abort();
  // Sends queued deliveries while the client's receive window has room.
  void DrainQueue();
  // Sends one delivery now (QoS>0 must fit the window; the caller checks CanSendQos()).
  void SendDelivery(Delivery delivery);
  bool CanSendQos() const;
  // Resumes a session: resend inflight (DUP) then drain the queue [MQTT-4.4.0-1].
  void ResendInflight();
  // Completes a CONNECT after the session was found, moved here or created.
  void FinishConnect(Session& session, bool session_present);
  // Continues a CONNECT once the previous session (if any) is known: `existing` on this shard,
  // or `moved` from another shard or node.
  void ContinueConnect(Session* existing, std::optional<SessionState> moved);

  void Send(const codec::Packet& packet);
  // Sends held acknowledgements whose writes are committed (called by the shard after a commit).
  void ReleaseAcks();
  size_t held_acks() const { return held_acks_.size(); }
  // Another shard committed what the publish behind held ack `ticket` gave it.
  void OnRemoteStored(uint64_t ticket, bool ok);
  // The shard's DeadlineQueue reached `deadline` for this client: times out if that is still the
  // deadline armed, queues the armed one if it moved later, else (cancelled, stale) nothing.
  void OnDeadline(std::chrono::steady_clock::time_point deadline);

 private:
  // PUBACK, PUBREC, PUBCOMP: with a store they wait for the shard's next commit (and for
  // `other_shards` confirmations), in the order they were made; without one they go at once.
  void SendAck(codec::Packet ack, uint64_t ticket = 0, int other_shards = 0);
  void Dispatch(codec::Packet&& packet);
  void SafeDispatch(codec::Packet&& packet);  // Dispatch with failures contained
  // --trace-clients: one log line per packet in ("<-") or out ("->") for this client.
  void Trace(const char* direction, const codec::Packet& packet) const;
  void OnDecodeError(const codec::DecodeError& error);
  // After a read: keeps `decoder` (as partial_) only while it holds bytes of a packet.
  void KeepDecoder(codec::Decoder& decoder);
  // Connect timeout, then keep alive: one entry in the shard's DeadlineQueue (no Asio timer per
  // connection).
  void ArmTimer();
  void CancelTimer() { deadline_ = std::chrono::steady_clock::time_point::max(); }
  void OnTimer();
  void DetachSession(bool publish_will);

  // Overload limits (client_limits.cc).
  // How long to stop reading before decoding the next packet (zero = go on).
  std::chrono::steady_clock::duration ReadPause();
  void ChargePublish(const codec::Publish& publish);
  // kSuccess, or why a PUBLISH is refused (memory, topic levels); counts the refusal.
  codec::ReasonCode AdmitPublish(const codec::Publish& publish);
  // kSuccess, or why one SUBSCRIBE filter is refused (quota, topic levels); counts the refusal.
  codec::ReasonCode AdmitFilter(const std::string& filter);
  // The connection has more unwritten bytes than max_outbound_bytes: applies the policy and
  // returns true when the delivery must not be written.
  bool OutboundFull();

  // Handlers, one file each (handle_*.cc).
  void HandleConnect(codec::Connect& connect);
  // Asks auth hook `index` (hook_calls.cc); the verdict comes back to this shard by client id.
  void Authenticate(std::shared_ptr<const std::optional<std::string>> password, size_t index = 0);
  meshmq::ClientInfo HookInfo() const;  // this client as hooks see it
  // false: a hook dropped it; routed_qos: the QoS the message is routed at (the ack keeps the
  // sender's).
  bool PublishHooks(codec::Publish& publish, int& routed_qos);
  void OnAuthenticated(int result, bool superuser);
  void CheckWillThenClaim();
  void ClaimSession();
  // The ACL questions of the hook chain (built-in ACL included) with this client's identity,
  // answered from acl_fetched_ where a verdict was fetched; true when no hook denies.
  bool Authorized(auth::Action action, std::string_view topic_or_filter);
  // 0x87 Not authorized, or 0x80 when the ACL file says "hide-denials yes".
  codec::ReasonCode DenialCode() const;
  auth::ClientInfo Identity() const;
  SessionOwner Owner() const;
  // Asynchronous ACL hooks (acl_fetch.cc, e.g. the HTTP ACL service): a PUBLISH or SUBSCRIBE one
  // of them cannot answer at once waits, with every packet behind it, until the verdicts are in.
  std::vector<HookChain::AclQuestion> AclQuestions(const codec::Packet& packet);
  // False when no hook needed a fetch; else `then` runs on this shard with acl_fetched_ filled.
  bool FetchAcl(std::vector<HookChain::AclQuestion> questions, void (Client::*then)());
  void Process(codec::Packet&& packet);  // SafeDispatch once the ACL verdicts are known
  void DrainPending();
  void DrainAfterFetch();
  void HandlePublish(codec::Publish& publish);
  void HandlePuback(const codec::Puback& ack);
  void HandlePubrec(const codec::Pubrec& ack);
  void HandlePubrel(const codec::Pubrel& ack);
  void HandlePubcomp(const codec::Pubcomp& ack);
  void HandleSubscribe(codec::Subscribe& subscribe);
  void HandleUnsubscribe(const codec::Unsubscribe& unsubscribe);
  void HandleDisconnect(const codec::Disconnect& disconnect);
  void HandleAuth(const codec::Auth& auth);
  bool ResolveTopicAlias(codec::Publish& publish);
  void DeliverRetained(const StoredSubscription& sub);
  void SendPublish(const Delivery& delivery, uint16_t packet_id, bool dup);

  // Field order: pointers and 8-byte fields first, every small one packed at the end (no padding
  // holes); the Client is part of every idle connection.
  Shard& shard_;
  ClientChannel& channel_;
  uint64_t id_;
  // The decoder holding a packet split across reads; nullptr between packets (see OnBytes).
  std::unique_ptr<codec::Decoder> partial_;
  // The client id and user name of the CONNECT until a session holds them (while connected
  // client_id() and username() read the session's copies), and again once it let go of it. On the
  // heap and only then: 8 bytes per connected client instead of two strings (64).
  struct Names {
    std::string client_id;
    std::string username;
  };
  std::unique_ptr<Names> names_;
  Names& names() {
    if (!names_) names_ = std::make_unique<Names>();
    return *names_;
  }
  static const std::string& EmptyName();
  Session* session_ = nullptr;
  std::unique_ptr<codec::Will> will_;  // heap: a Will is ~560 bytes and most clients have none
  uint64_t claim_token_ = 0;
  uint64_t acl_fetch_seq_ = 0;
  // Verdicts for the packet (or will) that waited; one pointer while empty, as nearly always.
  std::unique_ptr<std::vector<FetchedAcl>> acl_fetched_;
  std::unique_ptr<codec::Properties> connack_props_;  // between HandleConnect and FinishConnect

  // Keep alive [MQTT-3.1.2-24]: closed after 1.5 x keep_alive_s_ without a packet.
  std::chrono::steady_clock::time_point last_packet_at_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  // Time of this client's one entry in the shard's DeadlineQueue; max = none queued.
  std::chrono::steady_clock::time_point queued_at_ = std::chrono::steady_clock::time_point::max();

  // Topic aliases (v5), inbound (client -> broker) and outbound (broker -> client): allocated on
  // the first alias the client sets or is given; most clients never use one.
  struct TopicAliases {
    std::vector<std::string> inbound;
    absl::flat_hash_map<std::string, uint16_t> outbound;
  };
  std::unique_ptr<TopicAliases> aliases_;
  TopicAliases& Aliases() {
    if (!aliases_) aliases_ = std::make_unique<TopicAliases>();
    return *aliases_;
  }

  // Acknowledgements waiting for the store (see SendAck).
  struct HeldAck {
    codec::Packet packet;
    uint64_t ticket;
    uint64_t epoch;    // released once the shard's commit_epoch() reaches it
    int other_shards;  // confirmations still missing
  };
  LazyDeque<HeldAck> held_acks_;
  uint64_t next_ticket_ = 0;
  uint64_t waiting_for_epoch_ = 0;  // the commit this client is registered with the shard for

  // Packets the client pipelined after CONNECT while the session is being taken over.
  LazyDeque<codec::Packet> pending_;
  // Encode buffer, one per shard thread (not per client: an idle client keeps no buffer).
  static std::string& Scratch();

  // --max-publish-rate / --max-publish-bytes-rate, spent per PUBLISH, waited for before reading;
  // nullptr when neither is set (the default), so unlimited clients carry no buckets.
  struct PublishBuckets {
    TokenBucket messages;
    TokenBucket bytes;
  };
  std::unique_ptr<PublishBuckets> publish_limits_;
  static std::unique_ptr<PublishBuckets> MakePublishLimits(const BrokerOptions& options);

  // Small fields, packed.
  uint32_t requested_expiry_s_ = 0;
  // Limits the client announced in its CONNECT (v5).
  uint32_t client_max_packet_size_ = 0;  // 0 = no limit
  uint16_t client_receive_maximum_ = 65535;
  uint16_t client_topic_alias_max_ = 0;
  uint16_t keep_alive_s_ = 0;
  State state_ = State::kAwaitConnect;
  codec::ProtocolVersion version_ = codec::ProtocolVersion::kV311;
  bool request_problem_information_ = true;
  bool clean_start_ = true;
  bool has_username_ = false;
  bool trace_ = false;  // this client's packets are logged (--trace-clients)
  bool superuser_ = false;    // the HTTP auth backend said so: no ACL checks
  bool acl_waiting_ = false;  // an HTTP ACL fetch is out; incoming packets queue in pending_
  bool slow_abort_pending_ = false;  // --slow-consumer-policy disconnect: close is posted
  bool connect_decoded_ = false;     // the decoder of a later read is told so
};

}  // namespace meshmq::broker
