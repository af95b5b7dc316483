#include "auth/auth_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>
#include <thread>
#include <vector>

#include "temp_dir.h"

namespace meshmq::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int kFast = 1000;
const RateLimiter::Clock::time_point kNow =
    RateLimiter::Clock::time_point() + std::chrono::hours(1);

ClientInfo User(std::string_view name, std::string_view address = "127.0.0.1") {
  return ClientInfo{name, true, "client-1", address};
}
const ClientInfo kAnonymous{"", false, "anon-1", "127.0.0.1"};

AuthOptions Options(std::string password_file, std::string acl_file = "",
                    std::optional<bool> allow_anonymous = std::nullopt) {
  AuthOptions options;
  options.password_file = std::move(password_file);
  options.acl_file = std::move(acl_file);
  options.allow_anonymous = allow_anonymous;
  return options;
}

// Routes the default spdlog logger into a string for one test, at trace level.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string text() const { return stream_.str(); }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream stream_;
};

class AuthServiceTest : public ::testing::Test {
 protected:
  std::unique_ptr<AuthService> Make(AuthOptions options) {
    absl::StatusOr<std::unique_ptr<AuthService>> service = AuthService::Create(std::move(options));
    EXPECT_TRUE(service.ok()) << service.status();
    return service.ok() ? *std::move(service) : nullptr;
  }
  std::string Passwords(const std::string& extra = "") {
    return dir_.Write("passwd", "alice:" + HashPassword("wonderland", kFast) + "\n" + extra);
  }
  testing::TempDir dir_;
};

TEST_F(AuthServiceTest, NoFilesAllowsEveryone) {
  auto service = Make(Options(""));
  EXPECT_EQ(service->Authenticate(kAnonymous, std::nullopt), AuthResult::kAllowed);
  EXPECT_EQ(service->Authenticate(User("anyone"), "x"), AuthResult::kAllowed);
  EXPECT_TRUE(service->AuthorizePublish(kAnonymous, "a/b"));
  EXPECT_TRUE(service->AuthorizeSubscribe(kAnonymous, "#"));
}

TEST_F(AuthServiceTest, PasswordFileChecksCredentials) {
  auto service = Make(Options(Passwords()));
  EXPECT_EQ(service->Authenticate(User("alice"), "wonderland", kNow), AuthResult::kAllowed);
  EXPECT_EQ(service->Authenticate(User("alice"), "nope", kNow), AuthResult::kBadCredentials);
  EXPECT_EQ(service->Authenticate(User("alice"), std::nullopt, kNow), AuthResult::kBadCredentials);
  EXPECT_EQ(service->Authenticate(User("bob"), "wonderland", kNow), AuthResult::kBadCredentials);
}

TEST_F(AuthServiceTest, AnonymousPolicy) {
  auto strict = Make(Options(Passwords()));
  EXPECT_EQ(strict->Authenticate(kAnonymous, std::nullopt), AuthResult::kNotAuthorized);
  EXPECT_EQ(strict->Authenticate(kAnonymous, "wonderland"), AuthResult::kNotAuthorized);
  auto open = Make(Options(Passwords(), "", true));
  EXPECT_EQ(open->Authenticate(kAnonymous, std::nullopt), AuthResult::kAllowed);
  // A user name is still checked when anonymous clients are welcome.
  EXPECT_EQ(open->Authenticate(User("alice"), "bad", kNow), AuthResult::kBadCredentials);
  auto no_file_open = Make(Options("", "", true));
  EXPECT_EQ(no_file_open->Authenticate(kAnonymous, std::nullopt), AuthResult::kAllowed);
  absl::StatusOr<std::unique_ptr<AuthService>> contradiction =
      AuthService::Create(Options("", "", false));
  EXPECT_EQ(contradiction.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AuthServiceTest, RateLimitsFailuresPerAddress) {
  auto service = Make(Options(Passwords()));
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(service->Authenticate(User("alice", "10.0.0.9"), "guess", kNow),
              AuthResult::kBadCredentials);
  }
  // Even the right password is refused while the address is blocked.
  EXPECT_EQ(service->Authenticate(User("alice", "10.0.0.9"), "wonderland", kNow),
            AuthResult::kRateLimited);
  EXPECT_EQ(service->Authenticate(User("alice", "10.0.0.8"), "wonderland", kNow),
            AuthResult::kAllowed);
  EXPECT_EQ(service->Authenticate(User("alice", "10.0.0.9"), "wonderland",
                                  kNow + std::chrono::seconds(15)),
            AuthResult::kAllowed);
}

// A "host:port" address still counts per host, so new connections cannot dodge the limit.
TEST_F(AuthServiceTest, RateLimitIgnoresThePort) {
  auto service = Make(Options(Passwords()));
  for (int port = 1000; port < 1005; ++port) {
    const std::string address = "10.0.0.9:" + std::to_string(port);
    EXPECT_EQ(service->Authenticate(User("alice", address), "guess", kNow),
              AuthResult::kBadCredentials);
  }
  EXPECT_EQ(service->Authenticate(User("alice", "10.0.0.9:2000"), "wonderland", kNow),
            AuthResult::kRateLimited);
}

TEST_F(AuthServiceTest, AclApplies) {
  const std::string acl = dir_.Write("acl", "allow all user alice users/alice/#\ndefault deny\n");
  auto service = Make(Options(Passwords(), acl));
  EXPECT_TRUE(service->AuthorizePublish(User("alice"), "users/alice/x"));
  EXPECT_FALSE(service->AuthorizePublish(User("alice"), "users/bob/x"));
  EXPECT_TRUE(service->AuthorizeSubscribe(User("alice"), "users/alice/#"));
  EXPECT_FALSE(service->AuthorizeSubscribe(User("alice"), "users/bob/#"));
  // "#" reaches users/alice/...: granted, and filtered per message (Acl::MayReceive).
  EXPECT_TRUE(service->AuthorizeSubscribe(User("alice"), "#"));
}

TEST_F(AuthServiceTest, CreateFailsOnBadFiles) {
  const std::string bad = dir_.Write("bad_acl", "allow publish\n");
  absl::StatusOr<std::unique_ptr<AuthService>> service = AuthService::Create(Options("", bad));
  ASSERT_FALSE(service.ok());
  EXPECT_THAT(std::string(service.status().message()), HasSubstr(bad + ":1:"));
  EXPECT_FALSE(AuthService::Create(Options(dir_.File("missing"))).ok());
}

TEST_F(AuthServiceTest, ReloadSwapsFilesAndKeepsOldOnError) {
  LogCapture logs;
  const std::string acl = dir_.Write("acl", "allow publish any old/#\n");
  auto service = Make(Options(Passwords(), acl));
  const uint64_t generation = service->generation();

  Passwords("bob:" + HashPassword("builder", kFast) + "\n");
  dir_.Write("acl", "allow publish any new/#\n");
  ASSERT_TRUE(service->Reload().ok());
  EXPECT_NE(service->generation(), generation);
  EXPECT_EQ(service->Authenticate(User("bob"), "builder", kNow), AuthResult::kAllowed);
  EXPECT_TRUE(service->AuthorizePublish(User("bob"), "new/x"));
  EXPECT_FALSE(service->AuthorizePublish(User("bob"), "old/x"));

  // A broken ACL: the reload fails as a whole, both old files stay in force.
  dir_.Write("passwd", "carol:" + HashPassword("c", kFast) + "\n");
  dir_.Write("acl", "allow publish any new/#\nallow publish sideways\n");
  const absl::Status status = service->Reload();
  EXPECT_THAT(std::string(status.message()), HasSubstr(dir_.File("acl") + ":2:"));
  EXPECT_EQ(service->Authenticate(User("bob"), "builder", kNow), AuthResult::kAllowed);
  EXPECT_EQ(service->Authenticate(User("carol"), "c", kNow), AuthResult::kBadCredentials);
  EXPECT_TRUE(service->AuthorizePublish(User("bob"), "new/x"));
  EXPECT_THAT(logs.text(), HasSubstr("reload failed"));

  // A missing password file fails the same way.
  std::filesystem::remove(dir_.File("passwd"));
  EXPECT_FALSE(service->Reload().ok());
  EXPECT_EQ(service->Authenticate(User("bob"), "builder", kNow), AuthResult::kAllowed);
}

TEST_F(AuthServiceTest, ChecksRunWhileReloading) {
  auto service = Make(Options(Passwords(), dir_.Write("acl", "allow all any #\n")));
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0};
  std::atomic<int> checks{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        if (!service->AuthorizePublish(User("alice"), "a/b")) ++wrong;
        if (service->Authenticate(User("alice"), "wonderland", kNow) != AuthResult::kAllowed) {
          ++wrong;
        }
        ++checks;
      }
    });
  }
  // Keep reloading until the readers have raced plenty of checks against the swaps.
  for (int i = 0; i < 50 || checks < 300; ++i) ASSERT_TRUE(service->Reload().ok());
  stop = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(wrong, 0);
}

TEST_F(AuthServiceTest, PasswordsNeverReachTheLog) {
  LogCapture logs;
  auto service = Make(Options(Passwords()));
  const std::string secrets[] = {"hunter2-attempt", "wonderland", "second-guess"};
  EXPECT_EQ(service->Authenticate(User("alice", "192.0.2.1"), secrets[0], kNow),
            AuthResult::kBadCredentials);
  EXPECT_EQ(service->Authenticate(User("alice", "192.0.2.1"), secrets[1], kNow),
            AuthResult::kAllowed);
  EXPECT_EQ(service->Authenticate(User("mallory", "192.0.2.1"), secrets[2], kNow),
            AuthResult::kBadCredentials);
  for (int i = 0; i < 6; ++i) service->Authenticate(User("alice", "192.0.2.2"), secrets[2], kNow);
  ASSERT_TRUE(service->Reload().ok());
  const std::string text = logs.text();
  for (const std::string& secret : secrets) EXPECT_THAT(text, Not(HasSubstr(secret)));
  // Failures are logged with who and from where.
  EXPECT_THAT(text, HasSubstr("user='mallory' client_id='client-1' address=192.0.2.1"));
  EXPECT_THAT(text, HasSubstr("[info]"));
}

TEST_F(AuthServiceTest, LoggedNamesAreEscaped) {
  LogCapture logs;
  auto service = Make(Options(Passwords()));
  service->Authenticate(User("eve\n[info] forged"), "x", kNow);
  EXPECT_THAT(logs.text(), HasSubstr("eve\\n[info] forged"));
}

}  // namespace
}  // namespace meshmq::auth
