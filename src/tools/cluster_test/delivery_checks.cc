// Checks of plain cross-node routing: QoS 0/1/2, wildcards, order, unsubscribe.
#include <memory>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "tools/cluster_test/check_util.h"
#include "tools/cluster_test/checks_impl.h"

namespace meshmq::tools {
namespace {

// A subscriber on ctx.sub and a publisher on ctx.pub, with the subscriber's route in place.
struct Pair {
  std::unique_ptr<TestClient> sub;
  std::unique_ptr<TestClient> pub;
  long route_ms = 0;
};

absl::StatusOr<Pair> OpenPair(const CheckContext& ctx, const std::string& name,
                              const std::string& filter, const std::string& probe_topic,
                              uint8_t qos) {
  Pair p;
  auto sub = Open(ctx, ctx.sub, {.client_id = ctx.prefix + "/" + name + "-sub"});
  if (!sub.ok()) return sub.status();
  p.sub = std::move(*sub);
  if (auto s = p.sub->Subscribe(filter, qos); !s.ok()) return s;
  auto pub = Open(ctx, ctx.pub, {.client_id = ctx.prefix + "/" + name + "-pub"});
  if (!pub.ok()) return pub.status();
  p.pub = std::move(*pub);
  auto waited = WaitRoute(ctx, *p.pub, *p.sub, probe_topic);
  if (!waited.ok()) return waited.status();
  p.route_ms = *waited;
  return p;
}

absl::Status QosDelivery(const CheckContext& ctx, std::string& note, uint8_t qos) {
  std::string topic = absl::StrCat(ctx.prefix, "/qos", qos);
  auto pair = OpenPair(ctx, absl::StrCat("qos", qos), topic, topic, 2);
  if (!pair.ok()) return pair.status();
  std::string payload = absl::StrCat("hello qos ", qos);
  if (auto s = pair->pub->Publish(topic, payload, qos); !s.ok()) return s;
  if (auto s = Expect(ctx, *pair->sub, topic, payload, qos); !s.ok()) return s;
  // Exactly once: no duplicate follows.
  if (auto s = ExpectNothing(*pair->sub, 200); !s.ok()) return s;
  note = absl::StrCat("route ", pair->route_ms, " ms");
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckQos0(const CheckContext& ctx, std::string& note) {
  return QosDelivery(ctx, note, 0);
}
absl::Status CheckQos1(const CheckContext& ctx, std::string& note) {
  return QosDelivery(ctx, note, 1);
}
absl::Status CheckQos2(const CheckContext& ctx, std::string& note) {
  return QosDelivery(ctx, note, 2);
}

absl::Status CheckWildcards(const CheckContext& ctx, std::string& note) {
  const std::string base = ctx.prefix + "/wild";
  auto pair = OpenPair(ctx, "wild", base + "/+/temp", base + "/probe/temp", 1);
  if (!pair.ok()) return pair.status();
  if (auto s = pair->sub->Subscribe(base + "/multi/#", 1); !s.ok()) return s;
  auto waited = WaitRoute(ctx, *pair->pub, *pair->sub, base + "/multi/probe");
  if (!waited.ok()) return waited.status();
  TestClient& pub = *pair->pub;
  // Non-matching topics first; whatever leaks through shows up by the end of the check.
  for (const char* miss : {"/a/b/temp", "/a/humidity", "/multx/a"}) {
    if (auto s = pub.Publish(base + miss, "miss", 1); !s.ok()) return s;
  }
  const char* hits[] = {"/room1/temp", "/multi", "/multi/x/y/z"};
  for (const char* hit : hits) {
    if (auto s = pub.Publish(base + hit, hit, 1); !s.ok()) return s;
  }
  // Order is kept per topic only ([MQTT-4.6.0-5]); these are three topics, so compare as a set.
  std::multiset<std::string> expected, got;
  for (const char* hit : hits) expected.insert(base + hit);
  while (got.size() < expected.size()) {
    auto r = NextReal(*pair->sub, ctx.timeout_ms);
    if (!r) break;
    if (r->qos != 1 || r->payload != r->topic.substr(base.size())) {
      return absl::InternalError(absl::StrCat("unexpected ", Describe(*r)));
    }
    got.insert(r->topic);
  }
  if (got != expected) {
    return absl::InternalError(absl::StrCat("got ", got.size(), " of the ", expected.size(),
                                            " matching messages, or others"));
  }
  if (auto s = ExpectNothing(*pair->sub, 200); !s.ok()) return s;
  note = absl::StrCat("'+' route ", pair->route_ms, " ms, '#' route ", *waited, " ms");
  return absl::OkStatus();
}

absl::Status CheckOrder(const CheckContext& ctx, std::string& note) {
  const std::string topic = ctx.prefix + "/order";
  auto pair = OpenPair(ctx, "order", topic, topic, 1);
  if (!pair.ok()) return pair.status();
  constexpr int kCount = 200;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kCount; ++i) {
    if (auto s = pair->pub->Publish(topic, std::to_string(i), 1); !s.ok()) return s;
  }
  for (int i = 0; i < kCount; ++i) {
    auto r = NextReal(*pair->sub, ctx.timeout_ms);
    if (!r) return absl::DeadlineExceededError(absl::StrCat("message ", i, " never arrived"));
    if (r->payload != std::to_string(i)) {
      return absl::InternalError(absl::StrCat("message ", i, " out of order: got ", r->payload));
    }
  }
  note = absl::StrCat(kCount, " messages in ", MsSince(start), " ms");
  return absl::OkStatus();
}

absl::Status CheckUnsubscribe(const CheckContext& ctx, std::string& note) {
  const std::string topic = ctx.prefix + "/unsub";
  auto pair = OpenPair(ctx, "unsub", topic, topic, 1);
  if (!pair.ok()) return pair.status();
  if (auto s = pair->pub->Publish(topic, "before", 1); !s.ok()) return s;
  if (auto s = Expect(ctx, *pair->sub, topic, "before", 1); !s.ok()) return s;
  if (auto s = pair->sub->Unsubscribe(topic); !s.ok()) return s;
  // A second subscriber on the same node keeps the node interested in a sibling topic, so the
  // connection and the node's other routes stay in use while this one is gone.
  const std::string other = ctx.prefix + "/unsub-other";
  if (auto s = pair->sub->Subscribe(other, 1); !s.ok()) return s;
  auto waited = WaitRoute(ctx, *pair->pub, *pair->sub, other);
  if (!waited.ok()) return waited.status();
  for (int i = 0; i < 5; ++i) {
    if (auto s = pair->pub->Publish(topic, "after", 1); !s.ok()) return s;
  }
  if (auto s = pair->pub->Publish(other, "other", 1); !s.ok()) return s;
  // "other" was published last: once it is here, any "after" would have arrived before it.
  if (auto s = Expect(ctx, *pair->sub, other, "other", 1); !s.ok()) return s;
  return ExpectNothing(*pair->sub, 200);
}

}  // namespace meshmq::tools
