#include "broker/builtin_acl_hook.h"

#include "auth/acl.h"
#include "auth/auth_service.h"
#include "broker/broker.h"

namespace meshmq::broker {

namespace {

auth::Action AuthAction(Action action) {
  return action == Action::kPublish ? auth::Action::kPublish : auth::Action::kSubscribe;
}

// Allowed is no opinion: the hooks after this one may still deny.
Decision FromAllowed(bool allowed) { return allowed ? Decision::kNoOpinion : Decision::kDeny; }

}  // namespace

std::optional<bool> BuiltInAclHook::LocalVerdict(const ClientInfo& client, Action action,
                                                 std::string_view topic) const {
  auth::AuthService* service = broker_.auth();
  if (service == nullptr) return true;
  const auth::Acl& acl = service->ThreadAcl();
  auth::ClientInfo who = AuthIdentity(client);
  auth::HttpAuthBackend* http = service->http_acl();
  if (http == nullptr) return acl.Allowed(who, AuthAction(action), topic);
  // Explicit rules of the ACL file win; what they leave open goes to the HTTP service.
  if (std::optional<bool> rule = acl.Match(who, AuthAction(action), topic)) return rule;
  return http->CachedAcl(who, AuthAction(action), topic);
}

Decision BuiltInAclHook::OnAclCheck(const ClientInfo& client, Action action,
                                    const std::string& topic) {
  // Undecided here means the HTTP verdict was not fetched for this packet: deny.
  return FromAllowed(LocalVerdict(client, action, topic).value_or(false));
}

bool BuiltInAclHook::AclNeedsFetch(const ClientInfo& client, Action action,
                                   const std::string& topic) {
  return !LocalVerdict(client, action, topic).has_value();
}

void BuiltInAclHook::OnAclFetch(const ClientInfo& client, Action action, const std::string& topic,
                                AclDone done) {
  auth::AuthService* service = broker_.auth();
  auth::HttpAuthBackend* http = service != nullptr ? service->http_acl() : nullptr;
  if (http == nullptr) return done(Decision::kNoOpinion);
  // CheckAcl copies what it needs before returning; the answer comes on the backend's thread.
  http->CheckAcl(AuthIdentity(client), AuthAction(action), topic,
                 [done = std::move(done)](bool allowed) { done(FromAllowed(allowed)); });
}

bool BuiltInAclHook::OnAclGrantsAll(const ClientInfo& subscriber, const std::string& filter) {
  auth::AuthService* service = broker_.auth();
  return service == nullptr || service->ThreadAcl().SubscribeScope(AuthIdentity(subscriber),
                                                                    filter) ==
                                   auth::Acl::Scope::kAll;
}

Decision BuiltInAclHook::OnAclDeliver(const ClientInfo& subscriber, std::string_view topic) {
  auth::AuthService* service = broker_.auth();
  if (service == nullptr) return Decision::kNoOpinion;
  return FromAllowed(service->ThreadAcl().MayReceive(AuthIdentity(subscriber), topic));
}

uint64_t BuiltInAclHook::AclVersion() const {
  auth::AuthService* service = broker_.auth();
  return service != nullptr ? service->generation() : 0;
}

}  // namespace meshmq::broker
