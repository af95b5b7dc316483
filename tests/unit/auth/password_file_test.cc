#include "auth/password_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "auth/text.h"
#include "temp_dir.h"

namespace meshmq::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int kFast = 1000;  // iterations that keep the tests quick

TEST(HashPasswordTest, FormatAndDefaultIterations) {
  const std::string hash = HashPassword("secret");
  EXPECT_THAT(hash, StartsWith("$pbkdf2-sha512$210000$"));
  absl::StatusOr<PasswordFile::Entry> entry = ParseHash(hash);
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ(entry->iterations, kDefaultIterations);
  EXPECT_EQ(entry->salt.size(), 16u);
  EXPECT_EQ(entry->hash.size(), 64u);
  EXPECT_EQ(hash.find("secret"), std::string::npos);
}

TEST(HashPasswordTest, SaltIsRandom) {
  EXPECT_NE(HashPassword("same", kFast), HashPassword("same", kFast));
}

TEST(PasswordFileTest, VerifiesCorrectPasswordOnly) {
  const std::string text = "# users\n\nalice:" + HashPassword("wonderland", kFast) +
                           "\nbob:" + HashPassword("builder", kFast) + "\n";
  absl::StatusOr<PasswordFile> file = PasswordFile::Parse(text, "pw");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->size(), 2u);
  EXPECT_TRUE(file->Check("alice", "wonderland"));
  EXPECT_TRUE(file->Check("alice", "wonderland"));  // cached path
  EXPECT_TRUE(file->Check("bob", "builder"));
  EXPECT_FALSE(file->Check("alice", "builder"));
  EXPECT_FALSE(file->Check("alice", "wonderlan"));
  EXPECT_FALSE(file->Check("alice", ""));
  EXPECT_FALSE(file->Check("carol", "wonderland"));
  EXPECT_FALSE(file->Check("", ""));
}

TEST(PasswordFileTest, CacheDoesNotAcceptOtherPasswords) {
  absl::StatusOr<PasswordFile> file =
      PasswordFile::Parse("alice:" + HashPassword("right", kFast), "pw");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(file->Check("alice", "right"));
  EXPECT_FALSE(file->Check("alice", "wrong"));
  EXPECT_TRUE(file->Check("alice", "right"));
}

// An unknown user costs a PBKDF2 derivation like a known one (no user-name timing oracle).
TEST(PasswordFileTest, UnknownUserCostsOneDerivation) {
  constexpr int kSlow = 50000;
  absl::StatusOr<PasswordFile> file =
      PasswordFile::Parse("alice:" + HashPassword("x", kSlow), "pw");
  ASSERT_TRUE(file.ok());
  // Interleaved runs, fastest of five each, so load from other processes hits both sides alike.
  // Without the dummy derivation an unknown user would take microseconds, not milliseconds.
  using Duration = std::chrono::steady_clock::duration;
  const auto time = [&](std::string_view user) {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(file->Check(user, "wrong"));
    return std::chrono::steady_clock::now() - start;
  };
  Duration known = Duration::max();
  Duration unknown = Duration::max();
  for (int i = 0; i < 5; ++i) {
    known = std::min(known, time("alice"));
    unknown = std::min(unknown, time("mallory"));
  }
  EXPECT_GT(unknown, known / 4);
  EXPECT_LT(unknown, known * 4);
}

TEST(PasswordFileTest, ParseErrorsNameFileAndLine) {
  const std::string good = "alice:" + HashPassword("a", kFast);
  const struct {
    std::string text;
    std::string expected;
  } cases[] = {
      {"# c\nnocolon\n", "pw:2: expected user:hash"},
      {":" + HashPassword("a", kFast), "pw:1: invalid user name"},
      {"\n\nbob:$md5$1$aa$bb", "pw:3: user 'bob': unsupported hash scheme"},
      {"bob:$pbkdf2-sha512$10$c2FsdHNhbHQ=$" + std::string(88, 'A'), "pw:1: user 'bob': iter"},
      {"bob:$pbkdf2-sha512$abc$c2FsdHNhbHQ=$AAAA", "pw:1: user 'bob': iterations"},
      {"bob:$pbkdf2-sha512$1000$!!$AAAA", "pw:1: user 'bob': salt"},
      {"bob:$pbkdf2-sha512$1000$c2FsdHNhbHQ=$AAAA", "pw:1: user 'bob': hash must be"},
      {"bob:$pbkdf2-sha512$1000$c2FsdHNhbHQ=", "pw:1: user 'bob': expected $pbkdf2"},
      {good + "\n" + good + "\n", "pw:2: duplicate user 'alice'"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<PasswordFile> file = PasswordFile::Parse(c.text, "pw");
    ASSERT_FALSE(file.ok()) << c.text;
    EXPECT_THAT(std::string(file.status().message()), HasSubstr(c.expected));
  }
}

TEST(PasswordFileTest, LoadReadsFileAndReportsMissingFile) {
  testing::TempDir dir;
  const std::string path =
      dir.Write("pw", "  alice:" + HashPassword("pw", kFast) + "  \r\n# end\n");
  absl::StatusOr<PasswordFile> file = PasswordFile::Load(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE(file->Check("alice", "pw"));

  absl::StatusOr<PasswordFile> missing = PasswordFile::Load(dir.File("nope"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr(dir.File("nope")));

  const std::string bad = dir.Write("bad", "\nalice\n");
  EXPECT_THAT(std::string(PasswordFile::Load(bad).status().message()),
              HasSubstr(bad + ":2: expected user:hash"));
}

TEST(PasswordFileTest, UserNames) {
  EXPECT_TRUE(IsValidUserName("alice"));
  EXPECT_TRUE(IsValidUserName("d\xc3\xa9j\xc3\xa0"));  // UTF-8
  EXPECT_FALSE(IsValidUserName(""));
  EXPECT_FALSE(IsValidUserName("a:b"));
  EXPECT_FALSE(IsValidUserName("a b"));
  EXPECT_FALSE(IsValidUserName("a\nb"));
}

}  // namespace
}  // namespace meshmq::auth
