// The built-in authentication (password file, HTTP service: src/auth) as the first hook of the
// chain (include/meshmq/hooks.h). It always has an opinion: allowed or denied.
#pragma once

#include "broker/broker.h"
#include "meshmq/hooks.h"

namespace meshmq::app {

class BuiltInAuthHook final : public Hook {
 public:
  explicit BuiltInAuthHook(broker::Broker& broker) : broker_(broker) {}
  std::string name() const override { return "builtin-auth"; }
  // PBKDF2 runs on the broker's auth pool and HTTP on the backend's thread: never on the shard.
  void OnAuthenticate(const ClientInfo& client, const std::optional<std::string>& password,
                      AuthDone done) override;

 private:
  broker::Broker& broker_;
};

}  // namespace meshmq::app
