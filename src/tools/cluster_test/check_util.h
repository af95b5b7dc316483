// Helpers shared by the checks: opening clients, waiting for a route to reach the publisher's
// node, and expecting (or not) a message.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tools/cluster_test/checks.h"
#include "tools/cluster_test/test_client.h"

namespace meshmq::tools {

// Payload of route probes; real checks never use it, and Expect* skip it.
inline constexpr char kProbe[] = "__probe__";

absl::StatusOr<std::unique_ptr<TestClient>> Open(const CheckContext& ctx,
                                                 const std::string& address,
                                                 const ConnectOptions& opts,
                                                 bool* session_present = nullptr);

// Publishes probes on `topic` from `pub` until `sub` receives one: proves the subscriber's route
// has reached the publisher's node. Drains the probes afterwards. Returns the wait in ms.
absl::StatusOr<long> WaitRoute(const CheckContext& ctx, TestClient& pub, TestClient& sub,
                               const std::string& topic);

// Next non-probe message within the timeout, or nullopt.
std::optional<Received> NextReal(TestClient& client, int timeout_ms);

// Expects the next message to be exactly this one.
absl::Status Expect(const CheckContext& ctx, TestClient& client, const std::string& topic,
                    const std::string& payload, uint8_t qos, bool retain = false);

// Expects no message within `quiet_ms`.
absl::Status ExpectNothing(TestClient& client, int quiet_ms);

std::string Describe(const Received& r);

inline long MsSince(std::chrono::steady_clock::time_point start) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - start)
                               .count());
}

}  // namespace meshmq::tools
