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
  auth::ClientInfo who{client.username, client.has_username, client.client_id, client.address};
  broker::Broker* broker = &broker_;
  boost::asio::post(broker->auth_pool(), [broker, who, password, version = client.protocol_version,
                                          done = std::move(done)]() mutable {
    broker->auth()->AuthenticateAsync(who, std::move(password), version,
                                      [done](auth::AuthResult result, bool superuser) {
                                        done(FromAuthResult(result, superuser));
                                      });
  });
}

}  // namespace meshmq::app
