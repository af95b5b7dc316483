#include "app/auth_hook.h"

#include <boost/asio/post.hpp>

namespace meshmq::app {

namespace {

AuthDecision FromAuthResult(auth::AuthResult result, bool superuser) {
  switch (result) {
    case auth::AuthResult::kAllowed:
      return AuthDecision::Allow(superuser);
    case auth::AuthResult::kBadCredentials:
      return AuthDecision::Deny(AuthDecision::Reason::kBadCredentials);
    case auth::AuthResult::kNotAuthorized:
      return AuthDecision::Deny(AuthDecision::Reason::kNotAuthorized);
    case auth::AuthResult::kRateLimited:
      return AuthDecision::Deny(AuthDecision::Reason::kBusy);
  }
  return AuthDecision::Deny(AuthDecision::Reason::kNotAuthorized);
}

}  // namespace

void BuiltInAuthHook::OnAuthenticate(const ClientInfo& client,
                                     const std::optional<std::string>& password, AuthDone done) {
  // `client` belongs to the caller and is gone once this returns: the check runs on the auth
  // pool, so it gets its own copy (auth::ClientInfo only holds views into it).
  broker::Broker* broker = &broker_;
  boost::asio::post(broker->auth_pool(), [broker, client, password,
                                          done = std::move(done)]() mutable {
    auth::ClientInfo who{client.username, client.has_username, client.client_id, client.address};
    broker->auth()->AuthenticateAsync(who, std::move(password), client.protocol_version,
                                      [done](auth::AuthResult result, bool superuser) {
                                        done(FromAuthResult(result, superuser));
                                      });
  });
}

}  // namespace meshmq::app
