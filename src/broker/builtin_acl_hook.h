// The built-in ACL (the ACL file and the HTTP ACL service of src/auth) as a hook of the chain
// (include/meshmq/hooks.h), named "builtin-acl". It answers deny or no opinion: what the rules
// allow is left to the hooks after it, which may still deny. The HTTP service is asked through
// OnAclFetch before the packet is handled, and partly granted wildcard subscriptions are filtered
// per message through the delivery ACL, as Mosquitto does.
//
// Threads: every method runs on a shard thread (OnAclFetch's completion on the HTTP backend's
// thread). It reads the ACL through AuthService::ThreadAcl(): no lock per check.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "auth/client_info.h"
#include "meshmq/hooks.h"

namespace meshmq::broker {

class Broker;

class BuiltInAclHook final : public Hook {
 public:
  // `http_acl`: --acl-http-url is set (the broker's AuthService exists from Start() on).
  BuiltInAclHook(Broker& broker, bool http_acl) : broker_(broker), http_acl_(http_acl) {}

  std::string name() const override { return "builtin-acl"; }
  Features features() const override {
    return Features{.async_acl = http_acl_, .delivery_acl = true, .deliver = false};
  }
  Decision OnAclCheck(const ClientInfo& client, Action action, const std::string& topic) override;
  bool AclNeedsFetch(const ClientInfo& client, Action action, const std::string& topic) override;
  void OnAclFetch(const ClientInfo& client, Action action, const std::string& topic,
                  AclDone done) override;
  bool OnAclGrantsAll(const ClientInfo& subscriber, const std::string& filter) override;
  Decision OnAclDeliver(const ClientInfo& subscriber, std::string_view topic) override;
  uint64_t AclVersion() const override;

 private:
  // The ACL file's verdict, else the HTTP service's cached one; nullopt: ask the service.
  std::optional<bool> LocalVerdict(const ClientInfo& client, Action action,
                                   std::string_view topic) const;

  Broker& broker_;
  const bool http_acl_;
};

// The auth module's view of a hook's ClientInfo (views into it).
inline auth::ClientInfo AuthIdentity(const ClientInfo& c) {
  return auth::ClientInfo{c.username, c.has_username, c.client_id, c.address};
}

}  // namespace meshmq::broker
