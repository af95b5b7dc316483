// A broker inside a program: only users "dev-*" may log in, and every message gets a tag.
// Usage: embedded [PORT]   (docs/embedding.md)
#include <cstdio>
#include <string>

#include <meshmq/server.h>

struct DevOnly : meshmq::Hook {
  void OnAuthenticate(const meshmq::ClientInfo& c, const std::optional<std::string>&,
                      meshmq::AuthDone done) override {
    done(c.username.starts_with("dev-") ? meshmq::AuthDecision::Allow() : meshmq::AuthDecision::Deny());
  }
  bool OnPublish(const meshmq::ClientInfo& c, meshmq::Message& m) override {
    m.payload = "[" + c.username + "] " + m.payload;
    return true;
  }
};

int main(int argc, char** argv) {
  std::string error;
  auto server = meshmq::Server::Create(
      {{"mqtt_listen", std::string("127.0.0.1:") + (argc > 1 ? argv[1] : "1883")},
       {"http_listen", "off"}, {"workers", "2"}}, &error);
  if (!server) return std::fprintf(stderr, "%s\n", error.c_str()), 2;
  server->AddHook(std::make_shared<DevOnly>());
  if (!server->Start(&error)) return std::fprintf(stderr, "%s\n", error.c_str()), 1;
  std::printf("listening on %u\n", unsigned{server->mqtt_port()});
  std::fflush(stdout);
  server->Publish("embedded/started", "hello", 1, true);
  std::getchar();  // runs until stdin closes
  server->Stop();
}
