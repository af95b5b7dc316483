// The built-in ACL (ACL file, src/auth) as a hook of the chain (broker/builtin_acl_hook.h):
// where it stands in the chain decides who is asked first; a host hook before it can overrule it,
// one after it can deny further, and a chain without it (replaced by an allow-all hook) filters
// nothing. Also the hook API it needs: delivery-side ACL for partly granted wildcard filters, and
// asynchronous ACL verdicts completed from another thread.
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../auth/temp_dir.h"
#include "auth/auth_service.h"
#include "broker/builtin_acl_hook.h"
#include "broker_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshmq/hooks.h"

namespace meshmq::broker::testing {
namespace {

using ::testing::ElementsAre;

// Publish only under open/; subscribe to anything but secret/ (so "#" is granted in part).
constexpr char kAcl[] =
    "default deny\n"
    "allow publish   any open/#\n"
    "deny  subscribe any secret/#\n"
    "allow subscribe any #\n";

// A broker whose AuthService holds kAcl; the chain starts empty (the test places the built-in
// ACL hook). Members in this order: the service outlives the broker that points to it.
struct AclBroker {
  AclBroker() {
    auth::AuthOptions options;
    options.acl_file = dir.Write("acl", kAcl);
    auto created = auth::AuthService::Create(options);
    EXPECT_TRUE(created.ok()) << created.status();
    service = std::move(*created);
    broker = std::make_unique<Broker>(InlineOptions());
    broker->set_auth(service.get());
    builtin = std::make_shared<BuiltInAclHook>(*broker, /*http_acl=*/false);
  }
  auth::testing::TempDir dir;
  std::unique_ptr<auth::AuthService> service;
  std::unique_ptr<Broker> broker;
  std::shared_ptr<Hook> builtin;
};

// Logs every ACL question; answers kAllow for topics under `allow`, kDeny under `deny`.
struct HostAcl : Hook {
  HostAcl(std::string name, std::vector<std::string>* log) : name_(std::move(name)), log_(log) {}
  std::string name() const override { return name_; }
  Decision OnAclCheck(const ClientInfo&, Action action, const std::string& topic) override {
    log_->push_back(name_ + (action == Action::kPublish ? ":pub:" : ":sub:") + topic);
    if (!allow.empty() && topic.starts_with(allow)) return Decision::kAllow;
    if (!deny.empty() && topic.starts_with(deny)) return Decision::kDeny;
    return Decision::kNoOpinion;
  }
  std::string allow, deny;
  std::string name_;
  std::vector<std::string>* log_;
};

ReasonCode PublishAck(TestConn& conn, const std::string& topic, uint16_t id) {
  conn.Write(MakePublish(topic, "x", 1, id));
  for (const auto& ack : conn.Of<codec::Puback>()) {
    if (ack.packet_id == id) return ack.reason_code;
  }
  return ReasonCode::kUnspecifiedError;  // no PUBACK: shows as a failure
}

TEST(HookChainTest, BuiltInAclIsAHookAskedInChainOrder) {
  AclBroker b;
  std::vector<std::string> log;
  auto before = std::make_shared<HostAcl>("before", &log);
  before->allow = "vip/";  // the ACL file denies vip/: this hook comes first and lets it through
  auto after = std::make_shared<HostAcl>("after", &log);
  b.broker->hooks().Set({before, b.builtin, after});
  TestConn conn(*b.broker, 0, ProtocolVersion::kV5);
  Connect(conn, "c");
  // Allowed (v5: 0x10, nobody subscribed) or denied (0x87).
  EXPECT_EQ(PublishAck(conn, "vip/x", 1), ReasonCode::kNoMatchingSubscribers);
  EXPECT_EQ(PublishAck(conn, "closed/x", 2), ReasonCode::kNotAuthorized);  // the file's default
  EXPECT_EQ(PublishAck(conn, "open/x", 3), ReasonCode::kNoMatchingSubscribers);
  // "before" is asked everything first; "after" only what the built-in ACL allowed.
  EXPECT_THAT(log, ElementsAre("before:pub:vip/x", "before:pub:closed/x", "before:pub:open/x",
                               "after:pub:open/x"));
}

TEST(HookChainTest, HostAclHookAfterTheBuiltInAclDeniesFurther) {
  AclBroker b;
  std::vector<std::string> log;
  auto after = std::make_shared<HostAcl>("after", &log);
  after->deny = "open/private";
  b.broker->hooks().Set({b.builtin, after});
  TestConn conn(*b.broker, 0, ProtocolVersion::kV5);
  Connect(conn, "c");
  EXPECT_EQ(PublishAck(conn, "open/public", 1), ReasonCode::kNoMatchingSubscribers);
  EXPECT_EQ(PublishAck(conn, "open/private", 2), ReasonCode::kNotAuthorized);
  EXPECT_EQ(PublishAck(conn, "closed/x", 3), ReasonCode::kNotAuthorized);
  EXPECT_THAT(log, ElementsAre("after:pub:open/public", "after:pub:open/private"));
  // Subscriptions go through the same chain: refused by the file, or by the host after it.
  after->deny = "news/";
  EXPECT_THAT(Subscribe(conn, "secret/#", 0, 4), ElementsAre(ReasonCode::kNotAuthorized));
  EXPECT_THAT(Subscribe(conn, "news/#", 0, 5), ElementsAre(ReasonCode::kNotAuthorized));
  EXPECT_THAT(Subscribe(conn, "other/#", 0, 6), ElementsAre(ReasonCode::kSuccess));
}

// "#" is granted in part under "deny subscribe any secret/#": the built-in ACL's delivery check
// withholds secret/ messages from it, and only from it.
TEST(HookChainTest, BuiltInAclFiltersDeliveriesOfAPartlyGrantedFilter) {
  AclBroker b;
  b.broker->hooks().Set({b.builtin});
  TestConn sub(*b.broker, 0, ProtocolVersion::kV311);
  Connect(sub, "s");
  EXPECT_THAT(Subscribe(sub, "#", 0), ElementsAre(ReasonCode::kSuccess));
  TestConn pub(*b.broker, 0, ProtocolVersion::kV311);
  Connect(pub, "p");
  // Publishing under secret/ is not allowed to clients: the host publishes it, like $SYS.
  auto msg = [](std::string topic, std::string payload) {
    auto m = std::make_shared<Message>();
    m->topic = std::move(topic);
    m->payload = codec::SharedBytes(std::move(payload));
    return MessagePtr(std::move(m));
  };
  b.broker->Publish(msg("secret/a", "hidden"));
  b.broker->Publish(msg("open/a", "seen"));
  Settle(*b.broker);
  EXPECT_THAT(Payloads(sub.Of<codec::Publish>()), ElementsAre("seen"));
  EXPECT_EQ(b.broker->Stats().dropped[static_cast<int>(DropReason::kNotAuthorized)], 1u);
}

struct AllowAll : Hook {
  std::string name() const override { return "allow-all"; }
  Decision OnAclCheck(const ClientInfo&, Action, const std::string&) override {
    return Decision::kAllow;
  }
};

TEST(HookChainTest, BuiltInAclRemovedAndReplacedByAnAllowAllHook) {
  AclBroker b;
  b.broker->hooks().Set({std::make_shared<AllowAll>()});  // "builtin-acl" taken out
  ASSERT_FALSE(b.broker->hooks().delivery_acl());
  TestConn sub(*b.broker, 0, ProtocolVersion::kV5);
  Connect(sub, "s");
  EXPECT_THAT(Subscribe(sub, "secret/#", 0), ElementsAre(ReasonCode::kSuccess));
  TestConn pub(*b.broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  EXPECT_EQ(PublishAck(pub, "secret/x", 1), ReasonCode::kSuccess);  // the file would deny it
  EXPECT_THAT(Payloads(sub.Of<codec::Publish>()), ElementsAre("x"));
}

// Keeps each fetch's callback; the test answers from another thread.
struct LaterAcl : Hook {
  Features features() const override { return Features{.async_acl = true}; }
  bool AclNeedsFetch(const ClientInfo&, Action, const std::string& topic) override {
    return topic.starts_with("remote/");
  }
  void OnAclFetch(const ClientInfo& c, Action, const std::string& topic, AclDone done) override {
    asked.push_back(c.client_id + ":" + topic);
    pending.push_back(std::move(done));
  }
  Decision OnAclCheck(const ClientInfo&, Action, const std::string& topic) override {
    checked.push_back(topic);  // not asked for a topic whose verdict was fetched
    return Decision::kNoOpinion;
  }
  std::vector<std::string> asked, checked;
  std::vector<AclDone> pending;
};

TEST(HookChainTest, AsynchronousAclVerdictHoldsThePacketsUntilItArrives) {
  Broker broker(InlineOptions());
  auto hook = std::make_shared<LaterAcl>();
  broker.hooks().Add(hook);
  TestConn conn(broker, 0, ProtocolVersion::kV5);
  Connect(conn, "c");
  conn.Clear();
  conn.Write(MakePublish("remote/a", "1", 1, 1));
  conn.Write(MakePublish("local/b", "2", 1, 2));  // queued behind the first, order kept
  EXPECT_EQ(conn.Types(), "");
  EXPECT_THAT(hook->asked, ElementsAre("c:remote/a"));
  ASSERT_EQ(hook->pending.size(), 1u);
  std::thread([&] {
    hook->pending[0](Decision::kDeny);
    hook->pending[0](Decision::kAllow);  // a second answer is ignored
  }).join();
  Settle(broker);
  auto acks = conn.Of<codec::Puback>();
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[0].packet_id, 1);
  EXPECT_EQ(acks[0].reason_code, ReasonCode::kNotAuthorized);
  EXPECT_EQ(acks[1].packet_id, 2);
  EXPECT_EQ(acks[1].reason_code, ReasonCode::kNoMatchingSubscribers);  // allowed
  EXPECT_THAT(hook->checked, ElementsAre("local/b"));
}

}  // namespace
}  // namespace meshmq::broker::testing
