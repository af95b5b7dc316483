// meshmq::Server (include/meshmq/server.h) through its public API only: configuration checked
// like the executable's, host publishes reaching the retained store, stop and wait, and the
// built-in hooks in the chain.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "meshmq/server.h"

namespace {

TEST(ServerTest, InvalidConfigurationFailsWithTheExecutablesMessage) {
  std::string error;
  EXPECT_EQ(meshmq::Server::Create({{"workers", "-1"}}, &error), nullptr);
  EXPECT_NE(error.find("--workers"), std::string::npos) << error;
  error.clear();
  EXPECT_EQ(meshmq::Server::Create({{"no_such_key", "1"}}, &error), nullptr);
  EXPECT_NE(error.find("unknown flag --no-such-key"), std::string::npos) << error;
}

struct RetainedSeen : meshmq::Hook {
  void OnRetainedStored(const meshmq::MessageView& m) override {
    std::lock_guard lock(mu);
    seen.push_back(std::string(m.topic) + "=" + std::string(m.payload));
  }
  std::mutex mu;
  std::vector<std::string> seen;
};

TEST(ServerTest, StartsPublishesAndStops) {
  std::string error;
  auto server = meshmq::Server::Create(
      {{"mqtt_listen", "127.0.0.1:0"}, {"http-listen", "off"}, {"workers", "1"}}, &error);
  ASSERT_NE(server, nullptr) << error;
  auto hook = std::make_shared<RetainedSeen>();
  server->AddHook(hook);
  EXPECT_FALSE(server->Publish("a/b", "early"));  // not started
  ASSERT_TRUE(server->Start(&error)) << error;
  EXPECT_GT(server->mqtt_port(), 0);
  EXPECT_FALSE(server->Publish("a/#", "x"));  // not a topic name
  EXPECT_TRUE(server->Publish("a/b", "v", 1, /*retain=*/true));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    {
      std::lock_guard lock(hook->mu);
      if (!hook->seen.empty()) break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "retained message never stored";
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(hook->seen.front(), "a/b=v");
  std::atomic<bool> waited{false};
  std::thread waiter([&] {
    server->Wait();
    waited = true;
  });
  server->Stop();
  waiter.join();
  EXPECT_TRUE(waited);
  EXPECT_FALSE(server->Publish("a/b", "late"));
  server->Stop();  // idempotent
}

std::vector<std::string> Names(const std::vector<std::shared_ptr<meshmq::Hook>>& hooks) {
  std::vector<std::string> out;
  for (const auto& h : hooks) out.push_back(h->name());
  return out;
}

struct Named : meshmq::Hook {
  explicit Named(std::string n) : n_(std::move(n)) {}
  std::string name() const override { return n_; }
  std::string n_;
};

// meshmq's own password file / ACL checks are hooks of the chain, first, where a host can see,
// reorder and remove them.
TEST(ServerTest, BuiltInHooksAreInTheChainAndCanBeReplaced) {
  std::string acl = std::filesystem::temp_directory_path() /
                    ("meshmq-server-test-" + std::to_string(::getpid()) + ".acl");
  std::ofstream(acl) << "default deny\n";
  std::string error;
  auto open = meshmq::Server::Create({{"http-listen", "off"}}, &error);
  ASSERT_NE(open, nullptr) << error;
  EXPECT_TRUE(open->Hooks().empty());  // no checks configured: no built-in hooks
  auto server = meshmq::Server::Create(
      {{"mqtt_listen", "127.0.0.1:0"}, {"http-listen", "off"}, {"acl_file", acl}}, &error);
  ASSERT_NE(server, nullptr) << error;
  server->AddHook(std::make_shared<Named>("host"));
  EXPECT_EQ(Names(server->Hooks()),
            (std::vector<std::string>{"builtin-auth", "builtin-acl", "host"}));
  // Put a hook before the built-in ACL, and replace the ACL by one of the host's.
  auto chain = server->Hooks();
  chain.insert(chain.begin() + 1, std::make_shared<Named>("before-acl"));
  chain[2] = std::make_shared<Named>("my-acl");
  server->SetHooks(chain);
  EXPECT_EQ(Names(server->Hooks()),
            (std::vector<std::string>{"builtin-auth", "before-acl", "my-acl", "host"}));
  ASSERT_TRUE(server->Start(&error)) << error;  // the ACL file still loads (and reloads)
  server->Stop();
  std::filesystem::remove(acl);
}

}  // namespace
