// Overload protection pieces: the token bucket, the memory account and its marks, the per-address
// counter, and the client-side limits (subscription quota, topic depth, publish-rate
// back-pressure, slow-consumer disconnect) driven through a fake channel.
#include <chrono>
#include <string>
#include <thread>

#include "broker/address_limiter.h"
#include "broker/memory_account.h"
#include "broker/message_builder.h"
#include "broker/receive_time.h"
#include "broker/token_bucket.h"
#include "broker_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meshmq::broker::testing {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using Clock = std::chrono::steady_clock;

uint64_t Overload(Broker& broker, OverloadEvent e) {
  return broker.Stats().overload[static_cast<int>(e)];
}

TEST(TokenBucketTest, BurstThenWaitProportionalToDebt) {
  TokenBucket bucket(10, 5);  // 10/s, burst 5
  Clock::time_point t0 = Clock::now();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(bucket.Wait(t0), Clock::duration::zero()) << i;
    bucket.Take(t0, 1);
  }
  EXPECT_EQ(bucket.Wait(t0), Clock::duration::zero());  // exactly empty, not in debt
  bucket.Take(t0, 2);                                   // two more: 0.2 s of debt
  auto wait = std::chrono::duration_cast<milliseconds>(bucket.Wait(t0)).count();
  EXPECT_NEAR(wait, 200, 1);
  EXPECT_EQ(bucket.Wait(t0 + milliseconds(200)), Clock::duration::zero());
}

TEST(TokenBucketTest, RefillIsCappedAtBurst) {
  TokenBucket bucket(100, 3);
  Clock::time_point t0 = Clock::now();
  bucket.Take(t0, 3);
  EXPECT_DOUBLE_EQ(bucket.Wait(t0 + std::chrono::hours(1)).count(), 0);
  EXPECT_DOUBLE_EQ(bucket.tokens(), 3);
}

TEST(TokenBucketTest, LongRunRateEqualsLimit) {
  // A client that spends as soon as it may: 50/s over 10 s of simulated time.
  TokenBucket bucket(50, 50);
  Clock::time_point now = Clock::now();
  Clock::time_point end = now + std::chrono::seconds(10);
  int spent = 0;
  while (now < end) {
    auto wait = bucket.Wait(now);
    if (wait > Clock::duration::zero()) {
      now += wait;
      continue;
    }
    bucket.Take(now, 1);
    ++spent;
  }
  EXPECT_NEAR(spent, 50 * 10 + 50, 2);  // the rate, plus the initial burst
}

TEST(TokenBucketTest, ZeroRateIsUnlimited) {
  TokenBucket bucket(0, 0);
  EXPECT_TRUE(bucket.unlimited());
  bucket.Take(Clock::now(), 1e9);
  EXPECT_EQ(bucket.Wait(Clock::now()), Clock::duration::zero());
}

TEST(MemoryAccountTest, ChargesFollowObjectLifetimeAcrossThreads) {
  int64_t before = MemoryAccount::Total();
  {
    MemoryCharge a(1000);
    MemoryCharge b = a;  // a copy charges again
    EXPECT_EQ(MemoryAccount::Total() - before, 2000);
    MemoryCharge moved = std::move(b);
    EXPECT_EQ(MemoryAccount::Total() - before, 2000);
    // Released on another thread than it was charged on: only the sum matters.
    std::thread([c = std::move(moved)]() mutable { MemoryCharge gone = std::move(c); }).join();
    EXPECT_EQ(MemoryAccount::Total() - before, 1000);
  }
  EXPECT_EQ(MemoryAccount::Total(), before);
}

TEST(MemoryAccountTest, MessagesAreChargedUntilTheLastReferenceGoes) {
  int64_t before = MemoryAccount::Total();
  codec::Publish publish = MakePublish("a/b", std::string(10000, 'x'), 1, 1);
  MessagePtr msg = MessageFromPublish(publish, "c", "n");
  EXPECT_GE(MemoryAccount::Total() - before, 10000);
  MessagePtr copy = msg;
  msg.reset();
  EXPECT_GE(MemoryAccount::Total() - before, 10000);
  copy.reset();
  EXPECT_EQ(MemoryAccount::Total(), before);
}

// Most messages have no pass-through properties; they carry a null pointer, not an empty
// Properties (~490 bytes each, in every queued message).
TEST(MessageTest, CarriesPropertiesOnlyWhenThePublishHadSome) {
  codec::Publish plain = MakePublish("a/b", "x", 0, 0);
  plain.properties.message_expiry_interval = 60;  // kept as a deadline, not as a property
  MessagePtr a = MessageFromPublish(plain, "c", "n");
  EXPECT_EQ(a->properties, nullptr);
  EXPECT_TRUE(a->props() == codec::Properties{});
  EXPECT_TRUE(a->expiry_at_ms.has_value());

  codec::Publish with = MakePublish("a/b", "x", 0, 0);
  with.properties.content_type = "text/plain";
  with.properties.user_properties = {{"k", "v"}};
  with.properties.topic_alias = 3;  // the publisher's alias never passes through
  MessagePtr b = MessageFromPublish(with, "c", "n");
  ASSERT_NE(b->properties, nullptr);
  EXPECT_EQ(b->props().content_type, "text/plain");
  EXPECT_EQ(b->props().user_properties, with.properties.user_properties);
  EXPECT_FALSE(b->props().topic_alias.has_value());
  EXPECT_GT(b->charge.bytes(), a->charge.bytes());  // the properties are charged too

  Message c;
  c.set_properties(codec::Properties{});
  EXPECT_EQ(c.properties, nullptr);
}

// A message is stamped with the kernel's receive time of the read that carried it (no clock read
// per message); without one (TLS, WebSocket, a task) with the clock.
TEST(MessageTest, TimestampIsTheReadsReceiveTime) {
  const int64_t received_ns = 1'700'000'000'123'456'789;
  codec::Publish expiring = MakePublish("a/b", "x", 0, 0);
  expiring.properties.message_expiry_interval = 60;
  {
    ReceiveTime::Scope stamp(received_ns);
    MessagePtr m = MessageFromPublish(expiring, "c", "n");
    EXPECT_EQ(m->timestamp_ms, received_ns / 1'000'000);
    ASSERT_TRUE(m->expiry_at_ms.has_value());
    EXPECT_EQ(*m->expiry_at_ms, received_ns / 1'000'000 + 60'000);  // counted from receipt
  }
  codec::Publish later = MakePublish("a/b", "x", 0, 0);
  const int64_t before = NowMs();
  MessagePtr m = MessageFromPublish(later, "c", "n");
  EXPECT_GE(m->timestamp_ms, before);
  EXPECT_LE(m->timestamp_ms, NowMs());
}

TEST(MemoryGuardTest, HysteresisBetweenMarks) {
  MemoryGuard guard(1000, 800);
  EXPECT_FALSE(guard.Update(999));
  EXPECT_FALSE(guard.overloaded());
  EXPECT_TRUE(guard.Update(1000));
  EXPECT_TRUE(guard.overloaded());
  EXPECT_FALSE(guard.Update(900));  // between the marks: stays overloaded
  EXPECT_TRUE(guard.overloaded());
  EXPECT_TRUE(guard.Update(799));
  EXPECT_FALSE(guard.overloaded());
  EXPECT_FALSE(guard.Update(900));  // between the marks: stays normal
}

TEST(AddressLimiterTest, CountsPerAddressAndReleases) {
  AddressLimiter limiter(2);
  EXPECT_TRUE(limiter.Acquire("10.0.0.1"));
  EXPECT_TRUE(limiter.Acquire("10.0.0.1"));
  EXPECT_FALSE(limiter.Acquire("10.0.0.1"));
  EXPECT_TRUE(limiter.Acquire("10.0.0.2"));  // another address has its own budget
  limiter.Release("10.0.0.1");
  EXPECT_EQ(limiter.Count("10.0.0.1"), 1u);
  EXPECT_TRUE(limiter.Acquire("10.0.0.1"));
  limiter.Release("10.0.0.1");
  limiter.Release("10.0.0.1");
  limiter.Release("10.0.0.1");  // extra releases never go below zero
  EXPECT_EQ(limiter.Count("10.0.0.1"), 0u);
}

TEST(AddressLimiterTest, ZeroIsUnlimited) {
  AddressLimiter limiter(0);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(limiter.Acquire("10.0.0.1"));
  EXPECT_EQ(limiter.Count("10.0.0.1"), 0u);  // nothing tracked
}

TEST(OverloadClientTest, SubscriptionsBeyondQuotaGet0x97) {
  BrokerOptions options = InlineOptions();
  options.max_subscriptions = 2;
  Broker broker(options);
  TestConn c(broker, 0, ProtocolVersion::kV5);
  Connect(c, "c");
  EXPECT_THAT(Subscribe(c, "a", 1), ElementsAre(ReasonCode::kGrantedQos1));
  codec::Subscribe two = MakeSubscribe(2, "b", 0);
  two.subscriptions.push_back(two.subscriptions[0]);
  two.subscriptions[1].filter = "c";
  EXPECT_THAT(Subscribe(c, two), ElementsAre(ReasonCode::kSuccess, ReasonCode::kQuotaExceeded));
  // Re-subscribing to a filter it already has is not a new subscription.
  EXPECT_THAT(Subscribe(c, "a", 0, 3), ElementsAre(ReasonCode::kSuccess));
  EXPECT_EQ(Overload(broker, OverloadEvent::kSubscribeRefusedQuota), 1u);
  EXPECT_FALSE(c.closed());
}

TEST(OverloadClientTest, V311SubscriptionBeyondQuotaGets0x80) {
  BrokerOptions options = InlineOptions();
  options.max_subscriptions = 1;
  Broker broker(options);
  TestConn c(broker, 0, ProtocolVersion::kV311);
  Connect(c, "c");
  Subscribe(c, "a", 0);
  EXPECT_THAT(Subscribe(c, "b", 0, 2), ElementsAre(ReasonCode::kUnspecifiedError));
}

TEST(OverloadClientTest, DeepFilterGets0x8FAndDeepTopicGets0x90) {
  BrokerOptions options = InlineOptions();
  options.max_topic_levels = 3;
  Broker broker(options);
  TestConn sub(broker, 0, ProtocolVersion::kV5);
  Connect(sub, "s");
  EXPECT_THAT(Subscribe(sub, "a/b/c/d", 0), ElementsAre(ReasonCode::kTopicFilterInvalid));
  EXPECT_THAT(Subscribe(sub, "$share/g/a/b/#", 1, 2), ElementsAre(ReasonCode::kGrantedQos1));
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  pub.Write(MakePublish("a/b/c/d", "deep", 1, 7));
  auto acks = pub.Of<codec::Puback>();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].reason_code, ReasonCode::kTopicNameInvalid);
  EXPECT_FALSE(pub.closed());
  EXPECT_EQ(Overload(broker, OverloadEvent::kPublishRefusedTopicLevels), 1u);
  EXPECT_EQ(Overload(broker, OverloadEvent::kSubscribeRefusedTopicLevels), 1u);
}

TEST(OverloadClientTest, V311DeepTopicClosesTheConnection) {
  BrokerOptions options = InlineOptions();
  options.max_topic_levels = 2;
  Broker broker(options);
  TestConn pub(broker, 0, ProtocolVersion::kV311);
  Connect(pub, "p");
  pub.Write(MakePublish("a/b/c", "deep", 1, 7));
  EXPECT_TRUE(pub.closed());
  EXPECT_TRUE(pub.Of<codec::Puback>().empty());  // unacknowledged: the client keeps it
}

TEST(OverloadClientTest, PublishRateAsksTheTransportToPauseReads) {
  BrokerOptions options = InlineOptions();
  options.max_publish_rate = 5;  // burst 5
  Broker broker(options);
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  std::string five;
  for (int i = 0; i < 5; ++i) codec::Encode(MakePublish("t", "x", 0), ProtocolVersion::kV5, five);
  pub.WriteBytes(five);
  EXPECT_EQ(pub.pause_calls(), 0);
  std::string three;
  for (int i = 0; i < 3; ++i)
    codec::Encode(MakePublish("t", "x", 1, uint16_t(i + 1)), ProtocolVersion::kV5, three);
  pub.WriteBytes(three);
  // One over the budget is decoded and handled, then reading stops; the rest waits.
  EXPECT_EQ(pub.pause_calls(), 1);
  EXPECT_EQ(pub.Of<codec::Puback>().size(), 1u);
  EXPECT_FALSE(pub.closed());
  EXPECT_EQ(Overload(broker, OverloadEvent::kReadPausedPublishRate), 1u);
  // After the pause the transport resumes with no bytes: the held packets go on.
  std::this_thread::sleep_for(milliseconds(450));
  pub.WriteBytes("");
  EXPECT_EQ(pub.Of<codec::Puback>().size(), 3u);
}

TEST(OverloadClientTest, SlowConsumerDisconnectPolicyAborts) {
  BrokerOptions options = InlineOptions();
  options.max_outbound_bytes = 1000;
  options.slow_consumer_policy = SlowConsumerPolicy::kDisconnect;
  Broker broker(options);
  TestConn sub(broker, 0, ProtocolVersion::kV5);
  Connect(sub, "s");
  Subscribe(sub, "t", 0);
  sub.SetQueuedBytes(5000);
  TestConn pub(broker, 0, ProtocolVersion::kV5);
  Connect(pub, "p");
  pub.Write(MakePublish("t", "a", 0));
  pub.Write(MakePublish("t", "b", 0));
  EXPECT_EQ(sub.abort_calls(), 1);  // once, however many deliveries found it full
  EXPECT_EQ(Overload(broker, OverloadEvent::kSlowConsumerDisconnect), 1u);
  EXPECT_TRUE(sub.Of<codec::Publish>().empty());
}

}  // namespace
}  // namespace meshmq::broker::testing
