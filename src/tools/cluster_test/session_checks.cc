// Checks of state that follows clients and topics across nodes: retained messages, takeover,
// persistent sessions, shared subscriptions.
#include <map>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tools/cluster_test/check_util.h"
#include "tools/cluster_test/checks_impl.h"

namespace meshmq::tools {
namespace {

// Subscribes on `node` until the retained message is there (replication is asynchronous).
absl::Status ExpectRetained(const CheckContext& ctx, const std::string& node,
                            const std::string& id, const std::string& topic,
                            const std::string& payload) {
  auto start = std::chrono::steady_clock::now();
  while (true) {
    auto c = Open(ctx, node, {.client_id = id});
    if (!c.ok()) return c.status();
    if (auto s = (*c)->Subscribe(topic, 1); !s.ok()) return s;
    auto r = NextReal(**c, 300);
    (*c)->Disconnect();
    if (r && r->payload == payload && r->retain) return absl::OkStatus();
    if (MsSince(start) > ctx.timeout_ms) {
      return absl::DeadlineExceededError(absl::StrCat(
          "retained '", payload, "' not visible on ", node, "; last: ",
          r ? Describe(*r) : std::string("nothing")));
    }
  }
}

}  // namespace

absl::Status CheckRetained(const CheckContext& ctx, std::string& note) {
  const std::string topic = ctx.prefix + "/retained";
  auto pub = Open(ctx, ctx.pub, {.client_id = ctx.prefix + "/ret-pub"});
  if (!pub.ok()) return pub.status();
  if (auto s = (*pub)->Publish(topic, "kept", 1, true); !s.ok()) return s;
  auto start = std::chrono::steady_clock::now();
  absl::Status result = ExpectRetained(ctx, ctx.sub, ctx.prefix + "/ret-sub", topic, "kept");
  if (result.ok()) {
    result = ExpectRetained(ctx, ctx.third, ctx.prefix + "/ret-third", topic, "kept");
  }
  note = absl::StrCat("visible on both other nodes after ", MsSince(start), " ms");
  // Clean up even on failure: an empty retained message deletes it cluster-wide.
  (void)(*pub)->Publish(topic, "", 1, true);
  return result;
}

absl::Status CheckTakeover(const CheckContext& ctx, std::string& note) {
  const std::string id = ctx.prefix + "/takeover";
  auto first = Open(ctx, ctx.pub, {.client_id = id});
  if (!first.ok()) return first.status();
  auto start = std::chrono::steady_clock::now();
  auto second = Open(ctx, ctx.sub, {.client_id = id});
  if (!second.ok()) return second.status();
  long connack_ms = MsSince(start);
  CloseInfo info = (*first)->WaitClosed(ctx.timeout_ms);
  if (!info.closed) return absl::InternalError("first connection was not closed by its node");
  if (info.reason != codec::ReasonCode::kSessionTakenOver) {
    return absl::InternalError(absl::StrCat(
        "first connection closed with ",
        info.reason ? absl::StrCat("reason 0x", absl::Hex(static_cast<int>(*info.reason)))
                    : std::string("no DISCONNECT"),
        ", expected 0x8E (Session taken over)"));
  }
  // The winner must still be usable.
  if (auto s = (*second)->Subscribe(id + "/alive", 0); !s.ok()) return s;
  note = absl::StrCat("second CONNACK after ", connack_ms, " ms, old got DISCONNECT 0x8E");
  return absl::OkStatus();
}

absl::Status CheckSessionMigration(const CheckContext& ctx, std::string& note) {
  const std::string id = ctx.prefix + "/persist";
  const std::string topic = ctx.prefix + "/persist/t";
  const ConnectOptions persistent{.client_id = id, .clean_start = false, .session_expiry_s = 300};
  auto client = Open(ctx, ctx.pub, persistent);
  if (!client.ok()) return client.status();
  if (auto s = (*client)->Subscribe(topic, 1); !s.ok()) return s;
  auto publisher = Open(ctx, ctx.third, {.client_id = ctx.prefix + "/persist-pub"});
  if (!publisher.ok()) return publisher.status();
  if (auto w = WaitRoute(ctx, **publisher, **client, topic); !w.ok()) return w.status();
  (*client)->Disconnect();
  constexpr int kQueued = 3;
  for (int i = 0; i < kQueued; ++i) {
    if (auto s = (*publisher)->Publish(topic, absl::StrCat("offline ", i), 1); !s.ok()) return s;
  }
  if (ctx.settle_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ctx.settle_ms));
  bool present = false;
  auto start = std::chrono::steady_clock::now();
  auto resumed = Open(ctx, ctx.sub, persistent, &present);
  if (!resumed.ok()) return resumed.status();
  long connack_ms = MsSince(start);
  absl::Status result = present ? absl::OkStatus()
                                : absl::InternalError("CONNACK on the new node: session present 0");
  for (int i = 0; i < kQueued && result.ok(); ++i) {
    result = Expect(ctx, **resumed, topic, absl::StrCat("offline ", i), 1);
  }
  // The subscription moved too: a new message reaches the client on its new node (once the
  // new node's route has reached the publisher's node; until then node3 answers 0x10).
  if (result.ok()) result = WaitRoute(ctx, **publisher, **resumed, topic).status();
  if (result.ok()) result = (*publisher)->Publish(topic, "after move", 1);
  if (result.ok()) result = Expect(ctx, **resumed, topic, "after move", 1);
  (*resumed)->Disconnect();
  // Drop the session: clean start with expiry 0 ends it when this connection closes.
  if (auto drop = Open(ctx, ctx.sub, {.client_id = id}); drop.ok()) (*drop)->Disconnect();
  note = absl::StrCat("resumed on another node in ", connack_ms, " ms with ", kQueued,
                      " queued messages");
  return result;
}

absl::Status CheckSharedSubscription(const CheckContext& ctx, std::string& note) {
  const std::string topic = ctx.prefix + "/shared";
  const std::string filter = "$share/ct/" + topic;
  auto a = Open(ctx, ctx.sub, {.client_id = ctx.prefix + "/share-a"});
  if (!a.ok()) return a.status();
  auto b = Open(ctx, ctx.third, {.client_id = ctx.prefix + "/share-b"});
  if (!b.ok()) return b.status();
  if (auto s = (*a)->Subscribe(filter, 1); !s.ok()) return s;
  if (auto s = (*b)->Subscribe(filter, 1); !s.ok()) return s;
  auto pub = Open(ctx, ctx.pub, {.client_id = ctx.prefix + "/share-pub"});
  if (!pub.ok()) return pub.status();
  // The group's route is in place once either member receives a probe.
  auto probe_start = std::chrono::steady_clock::now();
  bool routed = false;
  while (!routed && MsSince(probe_start) < ctx.timeout_ms) {
    if (auto s = (*pub)->Publish(topic, kProbe, 0); !s.ok()) return s;
    for (TestClient* member : {a->get(), b->get()}) {
      if (auto r = member->Receive(25); r && r->payload == kProbe) routed = true;
    }
  }
  if (!routed) return absl::DeadlineExceededError("shared group route never reached publisher");
  constexpr int kCount = 60;
  for (int i = 0; i < kCount; ++i) {
    if (auto s = (*pub)->Publish(topic, std::to_string(i), 1); !s.ok()) return s;
  }
  std::map<std::string, int> seen;
  int got_a = 0, got_b = 0;
  auto start = std::chrono::steady_clock::now();
  while (got_a + got_b < kCount && MsSince(start) < ctx.timeout_ms) {
    for (auto [client, count] : {std::pair{a->get(), &got_a}, std::pair{b->get(), &got_b}}) {
      while (auto r = NextReal(*client, 20)) {
        ++seen[r->payload];
        ++*count;
      }
    }
  }
  // Give duplicates a moment to show up.
  for (TestClient* client : {a->get(), b->get()}) {
    while (auto r = NextReal(*client, 200)) ++seen[r->payload];
  }
  int duplicates = 0;
  for (const auto& [payload, n] : seen) duplicates += n - 1;
  note = absl::StrCat(kCount, " messages: ", got_a, " to the member on ", ctx.sub, ", ", got_b,
                      " to the member on ", ctx.third);
  if (static_cast<int>(seen.size()) != kCount || duplicates != 0) {
    return absl::InternalError(absl::StrCat("distinct ", seen.size(), " of ", kCount,
                                            ", duplicates ", duplicates, " (", note, ")"));
  }
  return absl::OkStatus();
}

}  // namespace meshmq::tools
