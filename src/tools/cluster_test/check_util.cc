#include "tools/cluster_test/check_util.h"

#include "absl/strings/str_cat.h"

namespace meshmq::tools {

absl::StatusOr<std::unique_ptr<TestClient>> Open(const CheckContext& ctx,
                                                 const std::string& address,
                                                 const ConnectOptions& opts,
                                                 bool* session_present) {
  auto client = std::make_unique<TestClient>(ctx.timeout_ms);
  auto connack = client->Connect(address, opts);
  if (!connack.ok()) {
    return absl::Status(connack.status().code(),
                        absl::StrCat(opts.client_id, "@", address, ": ",
                                     connack.status().message()));
  }
  if (session_present != nullptr) *session_present = connack->session_present;
  return client;
}

absl::StatusOr<long> WaitRoute(const CheckContext& ctx, TestClient& pub, TestClient& sub,
                               const std::string& topic) {
  auto start = std::chrono::steady_clock::now();
  bool seen = false;
  while (!seen && MsSince(start) < ctx.timeout_ms) {
    if (auto s = pub.Publish(topic, kProbe, 0); !s.ok()) return s;
    for (auto r = sub.Receive(50); r; r = sub.Receive(0)) {
      if (r->payload == kProbe) seen = true;
    }
  }
  long waited = MsSince(start);
  if (!seen) {
    return absl::DeadlineExceededError(
        absl::StrCat("route for ", topic, " did not reach the publisher's node in ", waited,
                     " ms"));
  }
  // Probes still in flight arrive within a moment; anything else is a real message and stays.
  while (auto r = sub.Receive(100)) {
    if (r->payload != kProbe) {
      return absl::InternalError(absl::StrCat("unexpected message while probing: ", Describe(*r)));
    }
  }
  return waited;
}

std::optional<Received> NextReal(TestClient& client, int timeout_ms) {
  auto start = std::chrono::steady_clock::now();
  while (true) {
    long left = timeout_ms - MsSince(start);
    auto r = client.Receive(left > 0 ? static_cast<int>(left) : 0);
    if (!r || r->payload != kProbe) return r;
  }
}

absl::Status Expect(const CheckContext& ctx, TestClient& client, const std::string& topic,
                    const std::string& payload, uint8_t qos, bool retain) {
  auto r = NextReal(client, ctx.timeout_ms);
  if (!r) {
    return absl::DeadlineExceededError(
        absl::StrCat("no message on ", topic, " within ", ctx.timeout_ms, " ms"));
  }
  if (r->topic != topic || r->payload != payload || r->qos != qos || r->retain != retain) {
    return absl::InternalError(absl::StrCat("expected ", topic, " '", payload, "' qos ", qos,
                                            retain ? " retained" : "", ", got ", Describe(*r)));
  }
  return absl::OkStatus();
}

absl::Status ExpectNothing(TestClient& client, int quiet_ms) {
  if (auto r = NextReal(client, quiet_ms)) {
    return absl::InternalError(absl::StrCat("unexpected message ", Describe(*r)));
  }
  return absl::OkStatus();
}

std::string Describe(const Received& r) {
  return absl::StrCat(r.topic, " '", r.payload.substr(0, 40), "' qos ", r.qos,
                      r.retain ? " retained" : "");
}

}  // namespace meshmq::tools
