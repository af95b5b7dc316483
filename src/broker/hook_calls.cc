// Where the client and shard call the C++ hooks (include/meshmq/hooks.h, broker/hook_chain.h).
// Every caller checks hooks().empty() (or the feature: delivers(), async_acl(), delivery_acl())
// first, so a node without such hooks pays one branch per call site.
#include <algorithm>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "auth/address_range.h"
#include "broker/broker.h"
#include "broker/client.h"
#include "broker/shard.h"
#include "codec/topic_rules.h"

namespace meshmq::broker {

meshmq::ClientInfo Client::HookInfo() const {
  return meshmq::ClientInfo{client_id(), username(), has_username_,
                            std::string(auth::PeerIp(remote_address())), static_cast<int>(version_)};
}

void Client::Authenticate(std::shared_ptr<const std::optional<std::string>> password,
                          size_t index) {
  HookChain& hooks = shard_.broker().hooks();
  if (index >= hooks.size()) {  // no hook had an opinion: let the client in
    OnAuthenticated(static_cast<int>(auth::AuthResult::kAllowed), false);
    return;
  }
  // The hook may answer later from any thread: the verdict is posted to this shard and finds the
  // client by id, since it may be gone by then.
  Shard* home = &shard_;
  uint64_t my_id = id_;
  hooks.AuthenticateOne(index, HookInfo(), *password,
                        [home, my_id, password, index](AuthDecision d) {
    boost::asio::post(home->io(), [home, my_id, password, index, d] {
      Client* c = home->FindClient(my_id);
      if (c == nullptr || c->state_ != State::kConnecting) return;
      auth::AuthResult result = auth::AuthResult::kAllowed;
      switch (d.decision) {
        case Decision::kNoOpinion:
          c->Authenticate(password, index + 1);
          return;
        case Decision::kAllow:
          break;
        case Decision::kDeny:
          result = d.reason == AuthDecision::Reason::kNotAuthorized ? auth::AuthResult::kNotAuthorized
                   : d.reason == AuthDecision::Reason::kBusy        ? auth::AuthResult::kRateLimited
                                                                    : auth::AuthResult::kBadCredentials;
          break;
      }
      c->OnAuthenticated(static_cast<int>(result), d.decision == Decision::kAllow && d.superuser);
    });
  });
}

bool Client::Authorized(auth::Action action, std::string_view topic_or_filter) {
  // The built-in ACL (file, HTTP service) is one of these hooks, where it was added.
  HookChain& hooks = shard_.broker().hooks();
  if (hooks.empty() || superuser_) return true;
  Action a = action == auth::Action::kPublish ? Action::kPublish : Action::kSubscribe;
  return hooks.CheckAcl(HookInfo(), a, std::string(topic_or_filter), acl_fetched_.get()) !=
         Decision::kDeny;
}

bool Client::PublishHooks(codec::Publish& publish, int& routed_qos) {
  meshmq::Message m{publish.topic, publish.payload.str(), publish.qos, publish.retain};
  if (!shard_.broker().hooks().Publish(HookInfo(), m)) return false;
  if (m.topic != publish.topic) {
    if (!codec::IsValidTopicName(m.topic) || m.topic.starts_with("$SYS")) {
      spdlog::warn("publish hook set an invalid topic \"{}\": message dropped", m.topic);
      return false;
    }
    publish.topic = std::move(m.topic);
  }
  if (m.payload != publish.payload.view()) publish.payload = codec::SharedBytes(std::move(m.payload));
  publish.retain = m.retain;
  routed_qos = std::clamp(m.qos, 0, 2);
  return true;
}

meshmq::ClientInfo Shard::HookInfoOf(const Session& session) {
  return meshmq::ClientInfo{session.client_id, session.owner.username, session.owner.has_username,
                            session.owner.address, static_cast<int>(session.version)};
}

bool Shard::DeliverHooks(const Session& session, const Delivery& delivery) {
  if (broker_.hooks().Deliver(HookInfoOf(session), ViewOf(*delivery.msg, delivery.qos))) return true;
  stats_.Drop(DropReason::kHook);
  return false;
}

}  // namespace meshmq::broker
