// SUBSCRIBE and UNSUBSCRIBE: filter validation, subscription options, retained delivery.
#include <spdlog/spdlog.h>

#include "broker/broker.h"
#include "broker/client.h"
#include "broker/shard.h"
#include "codec/topic_rules.h"

namespace meshmq::broker {

using codec::ProtocolVersion;
using codec::ReasonCode;

void Client::HandleSubscribe(codec::Subscribe& subscribe) {
  codec::Suback suback;
  suback.packet_id = subscribe.packet_id;
  uint32_t subscription_id = 0;
  if (!subscribe.properties.subscription_identifiers.empty()) {
    subscription_id = subscribe.properties.subscription_identifiers.front();
  }
  std::vector<StoredSubscription> retained_for;
  for (auto& request : subscribe.subscriptions) {
    if (!codec::IsValidTopicFilter(request.filter)) {
      if (version_ != ProtocolVersion::kV5) {
        // 3.x has no reason code for it: a protocol violation closes the connection [MQTT-4.8.0-1].
        CloseWith(ReasonCode::kTopicFilterInvalid);
        return;
      }
      suback.reason_codes.push_back(ReasonCode::kTopicFilterInvalid);  // per filter, the others proceed
      continue;
    }
    std::string_view group, inner;
    bool shared = codec::ParseSharedFilter(request.filter, group, inner);
    if (shared && request.no_local) {
      CloseWith(ReasonCode::kProtocolError);  // [MQTT-3.8.3-4]
      return;
    }
    if (ReasonCode refused = AdmitFilter(request.filter); refused != ReasonCode::kSuccess) {
      // Per filter, like the ACL; 3.x has only 0x80 for any failure.
      suback.reason_codes.push_back(version_ == ProtocolVersion::kV5
                                        ? refused
                                        : ReasonCode::kUnspecifiedError);
      continue;
    }
    if (!Authorized(auth::Action::kSubscribe, request.filter)) {
      // Refused per filter; the others in the packet proceed.
      suback.reason_codes.push_back(version_ == ProtocolVersion::kV5
                                        ? DenialCode()
                                        : ReasonCode::kUnspecifiedError);
      continue;
    }
    int granted = std::min<uint8_t>(request.qos, 2);
    if (HookChain& hooks = shard_.broker().hooks(); !hooks.empty()) {
      granted = hooks.Subscribe(HookInfo(), request.filter, granted);  // may lower or refuse
      if (granted < 0) {
        suback.reason_codes.push_back(version_ == ProtocolVersion::kV5 ? ReasonCode::kNotAuthorized
                                                                        : ReasonCode::kUnspecifiedError);
        continue;
      }
    }
    StoredSubscription sub;
    sub.request = request;
    sub.request.qos = static_cast<uint8_t>(granted);
    sub.subscription_id = subscription_id;
    bool existed = shard_.Subscribe(*session_, sub);
    suback.reason_codes.push_back(static_cast<ReasonCode>(sub.request.qos));
    // Retain Handling [MQTT-3.3.1-9..11]; shared subscriptions get no retained messages.
    uint8_t rh = version_ == ProtocolVersion::kV5 ? request.retain_handling : 0;
    if (!shared && (rh == 0 || (rh == 1 && !existed))) retained_for.push_back(std::move(sub));
  }
  // A granted subscription must survive a crash: written before SUBACK (rare, so not batched).
  if (session_->stored) shard_.CommitNow();
  Send(suback);  // retained messages follow the SUBACK
  for (const auto& sub : retained_for) DeliverRetained(sub);
}

void Client::DeliverRetained(const StoredSubscription& sub) {
  SubOptions acl_scope;
  acl_scope.acl_all_generation = shard_.AclAllGeneration(*session_, sub.request.filter);
  shard_.broker().retained().Match(sub.request.filter, [&](const MessagePtr& msg) {
    if (session_ == nullptr) return;
    if (!shard_.MayDeliver(*session_, acl_scope, msg->topic)) return;
    Delivery d;
    d.msg = msg;
    d.qos = std::min(sub.request.qos, msg->qos);
    d.retain = true;  // [MQTT-3.3.1-8] retained messages sent on subscribe keep RETAIN = 1
    if (sub.subscription_id != 0) d.subscription_ids.push_back(sub.subscription_id);
    shard_.Deliver(*session_, std::move(d));
    shard_.NoteRetainedSent(*session_, msg);
  });
}

void Client::HandleUnsubscribe(const codec::Unsubscribe& unsubscribe) {
  codec::Unsuback unsuback;
  unsuback.packet_id = unsubscribe.packet_id;
  for (const auto& filter : unsubscribe.filters) {
    bool existed = shard_.Unsubscribe(*session_, filter);
    unsuback.reason_codes.push_back(existed ? ReasonCode::kSuccess
                                            : ReasonCode::kNoSubscriptionExisted);
  }
  if (session_->stored) shard_.CommitNow();
  Send(unsuback);
}

}  // namespace meshmq::broker
