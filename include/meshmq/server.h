// meshmq as a library: a whole broker node inside a host program (docs/embedding.md).
// Public API: only the standard library here; link meshmq::meshmq (find_package(meshmq)).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "meshmq/hooks.h"

namespace meshmq {

class Server {
 public:
  // The configuration uses the keys of the JSON config file or the flags without "--"
  // ("mqtt_listen" or "mqtt-listen" -> "127.0.0.1:0"), validated as the meshmq executable does;
  // "config" names a JSON file to read first. MESHMQ_* environment variables are not read.
  // Returns nullptr and sets *error (the executable's message) when the configuration is invalid.
  static std::unique_ptr<Server> Create(const std::map<std::string, std::string>& config,
                                        std::string* error = nullptr);
  ~Server();  // stops the node if it still runs
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Before Start(): appends a hook; hooks are called in the order added. Create() has already
  // put meshmq's own hooks first when they are configured: "builtin-auth" (password file, HTTP
  // login, --allow-anonymous) and "builtin-acl" (ACL file, HTTP ACL).
  void AddHook(std::shared_ptr<Hook> hook);
  // The chain as it stands, in call order (the built-in hooks included; find them by name()).
  std::vector<std::shared_ptr<Hook>> Hooks() const;
  // Before Start(): replaces the whole chain, e.g. to put a hook before "builtin-acl", to drop it
  // for a replacement of your own, or to wrap it (keep its shared_ptr and delegate).
  void SetHooks(std::vector<std::shared_ptr<Hook>> hooks);

  // Binds the listeners and starts the worker threads. False and *error on failure.
  bool Start(std::string* error = nullptr);
  // The bound MQTT TCP port (port 0 in the configuration picks a free one). After Start().
  uint16_t mqtt_port() const;

  // Publishes as the broker itself, from any thread after Start(); routed like a client's
  // PUBLISH (not shown to publish hooks). retain with an empty payload deletes the retained message.
  // False when the topic is not a valid topic name or the server is not running.
  bool Publish(const std::string& topic, std::string payload, int qos = 0, bool retain = false);

  // Graceful stop: listeners close, v5 clients get DISCONNECT 0x8B, sessions are kept as
  // configured. Any thread but a hook's; idempotent. Wait() returns once it is done.
  void Stop();
  void Wait();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace meshmq
