#include "auth/rate_limiter.h"

#include <gtest/gtest.h>

#include <string>

namespace meshmq::auth {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;
using Clock = RateLimiter::Clock;

const Clock::time_point kT0 = Clock::time_point() + std::chrono::hours(1);

void Fail(RateLimiter& limiter, std::string_view address, Clock::time_point now, int times) {
  for (int i = 0; i < times; ++i) limiter.RecordFailure(address, now);
}

TEST(RateLimiterTest, BlocksAfterFiveFailuresInWindow) {
  RateLimiter limiter;
  Fail(limiter, "10.0.0.1", kT0, 4);
  EXPECT_TRUE(limiter.AllowAttempt("10.0.0.1", kT0));
  limiter.RecordFailure("10.0.0.1", kT0 + seconds(59));
  EXPECT_FALSE(limiter.AllowAttempt("10.0.0.1", kT0 + seconds(60)));
  EXPECT_TRUE(limiter.AllowAttempt("10.0.0.2", kT0 + seconds(60)));  // per address
  EXPECT_FALSE(limiter.AllowAttempt("10.0.0.1", kT0 + seconds(73)));
  EXPECT_TRUE(limiter.AllowAttempt("10.0.0.1", kT0 + seconds(59 + 15)));
}

TEST(RateLimiterTest, FailuresOutsideTheWindowDoNotAddUp) {
  RateLimiter limiter;
  for (int i = 0; i < 20; ++i) limiter.RecordFailure("a", kT0 + seconds(20 * i));
  // At most 3 failures fall into any 60 s window.
  EXPECT_TRUE(limiter.AllowAttempt("a", kT0 + seconds(400)));
}

TEST(RateLimiterTest, BackoffDoublesUpToFiveMinutes) {
  RateLimiter limiter;
  Clock::time_point now = kT0;
  Fail(limiter, "a", now, 5);
  const int expected_seconds[] = {30, 60, 120, 240, 300, 300};
  now += seconds(15);
  for (const int s : expected_seconds) {
    ASSERT_TRUE(limiter.AllowAttempt("a", now));
    limiter.RecordFailure("a", now);  // one failure after a block blocks again, longer
    EXPECT_FALSE(limiter.AllowAttempt("a", now + seconds(s) - seconds(1))) << s;
    now += seconds(s);
    EXPECT_TRUE(limiter.AllowAttempt("a", now)) << s;
  }
}

TEST(RateLimiterTest, RefusedAttemptsDoNotExtendTheBlock) {
  RateLimiter limiter;
  Fail(limiter, "a", kT0, 5);
  Fail(limiter, "a", kT0 + seconds(10), 10);  // while blocked
  EXPECT_TRUE(limiter.AllowAttempt("a", kT0 + seconds(15)));
}

TEST(RateLimiterTest, SuccessAndQuietPeriodReset) {
  RateLimiter limiter;
  Fail(limiter, "a", kT0, 5);
  limiter.RecordSuccess("a");
  EXPECT_TRUE(limiter.AllowAttempt("a", kT0));
  EXPECT_EQ(limiter.size(), 0u);

  Fail(limiter, "b", kT0, 5);
  const Clock::time_point later = kT0 + minutes(11);
  limiter.RecordFailure("b", later);  // forgotten: this is failure 1 of 5, not a new block
  EXPECT_TRUE(limiter.AllowAttempt("b", later));
}

TEST(RateLimiterTest, MemoryIsBoundedEvictingLeastRecent) {
  RateLimiter::Options options;
  options.max_entries = 3;
  RateLimiter limiter(options);
  Fail(limiter, "a", kT0, 5);
  Fail(limiter, "b", kT0, 1);
  Fail(limiter, "c", kT0, 1);
  Fail(limiter, "a", kT0, 1);  // refreshes "a"
  Fail(limiter, "d", kT0, 1);  // evicts "b", the least recently seen
  EXPECT_EQ(limiter.size(), 3u);
  EXPECT_FALSE(limiter.AllowAttempt("a", kT0));
  for (int i = 0; i < 100; ++i) limiter.RecordFailure("x" + std::to_string(i), kT0);
  EXPECT_EQ(limiter.size(), 3u);
}

}  // namespace
}  // namespace meshmq::auth
