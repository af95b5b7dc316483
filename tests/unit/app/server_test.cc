// meshmq::Server (include/meshmq/server.h) through its public API only: configuration checked
// like the executable's, host publishes reaching the retained store, stop and wait.
#include <atomic>
#include <chrono>
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

}  // namespace
