#include "auth/passwd_command.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "temp_dir.h"

namespace meshmq::auth {
namespace {

using ::testing::HasSubstr;
using testing::ReadAll;
using ::testing::StartsWith;
using testing::TempDir;

constexpr int kFast = 1000;

// Runs PasswdCommand with `input` on fd 0 (a pipe, so not a terminal), restoring fd 0 after.
int RunWithStdin(const std::vector<const char*>& argv, const std::string& input) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  EXPECT_EQ(::write(fds[1], input.data(), input.size()), static_cast<ssize_t>(input.size()));
  ::close(fds[1]);
  const int saved = ::dup(STDIN_FILENO);
  ::dup2(fds[0], STDIN_FILENO);
  ::close(fds[0]);
  const int rc = PasswdCommand(static_cast<int>(argv.size()), argv.data());
  ::dup2(saved, STDIN_FILENO);
  ::close(saved);
  return rc;
}

PasswordFile MustLoad(const std::string& path) {
  absl::StatusOr<PasswordFile> file = PasswordFile::Load(path);
  EXPECT_TRUE(file.ok()) << file.status();
  return *std::move(file);
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

TEST(PasswdCommandTest, StdinCreatesFileWithMode0600) {
  TempDir dir;
  const std::string path = dir.File("passwd");
  ASSERT_EQ(RunWithStdin({"passwd", path.c_str(), "alice"}, "s3cret\n"), 0);
  EXPECT_EQ(ModeOf(path), 0600u);
  const std::string text = ReadAll(path);
  EXPECT_THAT(text, StartsWith("alice:$pbkdf2-sha512$210000$"));
  EXPECT_EQ(text.find("s3cret"), std::string::npos);
  PasswordFile file = MustLoad(path);
  EXPECT_TRUE(file.Check("alice", "s3cret"));  // trailing newline was not part of it
  EXPECT_FALSE(file.Check("alice", "s3cret\n"));
}

TEST(PasswdCommandTest, StdinStripsCarriageReturnAndReadsOneLine) {
  TempDir dir;
  const std::string path = dir.File("passwd");
  ASSERT_EQ(RunWithStdin({"passwd", path.c_str(), "bob"}, "pw with spaces\r\nsecond line\n"), 0);
  EXPECT_TRUE(MustLoad(path).Check("bob", "pw with spaces"));
}

TEST(PasswdCommandTest, ReplaceKeepsOtherLinesAndDeleteRemoves) {
  TempDir dir;
  const std::string path = dir.File("passwd");
  ASSERT_TRUE(SetPassword(path, "alice", "one", kFast).ok());
  ASSERT_TRUE(SetPassword(path, "bob", "two", kFast).ok());
  {
    std::string text = "# keep me\n" + ReadAll(path);
    std::ofstream(path, std::ios::trunc) << text;
  }
  ASSERT_TRUE(SetPassword(path, "alice", "uno", kFast).ok());
  std::string text = ReadAll(path);
  EXPECT_THAT(text, StartsWith("# keep me\nalice:"));
  EXPECT_EQ(text.find("alice:"), text.rfind("alice:"));  // replaced, not appended
  PasswordFile file = MustLoad(path);
  EXPECT_TRUE(file.Check("alice", "uno"));
  EXPECT_FALSE(file.Check("alice", "one"));
  EXPECT_TRUE(file.Check("bob", "two"));

  // The user "al" must not delete "alice" (prefix match).
  EXPECT_EQ(DeleteUser(path, "al").code(), absl::StatusCode::kNotFound);
  const char* argv[] = {"passwd", "-D", path.c_str(), "alice"};
  ASSERT_EQ(PasswdCommand(4, argv), 0);
  file = MustLoad(path);
  EXPECT_FALSE(file.Contains("alice"));
  EXPECT_TRUE(file.Check("bob", "two"));
  EXPECT_THAT(ReadAll(path), StartsWith("# keep me\nbob:"));
  EXPECT_EQ(ModeOf(path), 0600u);
}

TEST(PasswdCommandTest, ReplaceIsAtomicRename) {
  TempDir dir;
  const std::string path = dir.File("passwd");
  ASSERT_TRUE(SetPassword(path, "alice", "one", kFast).ok());
  const std::string link = dir.File("old");  // a second name for the old inode
  ASSERT_EQ(::link(path.c_str(), link.c_str()), 0);
  const std::string before = ReadAll(path);
  ASSERT_TRUE(SetPassword(path, "alice", "two", kFast).ok());
  EXPECT_EQ(ReadAll(link), before);  // old file never rewritten in place
  EXPECT_NE(ReadAll(path), before);
  // No temporary files are left behind.
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 2);
}

TEST(PasswdCommandTest, Errors) {
  TempDir dir;
  const std::string path = dir.File("passwd");
  EXPECT_EQ(RunWithStdin({"passwd", path.c_str()}, "x\n"), 2);             // usage
  EXPECT_EQ(RunWithStdin({"passwd", "-x", path.c_str(), "a"}, "x\n"), 2);  // usage
  EXPECT_EQ(RunWithStdin({"passwd", path.c_str(), "alice"}, ""), 1);       // no password
  EXPECT_EQ(RunWithStdin({"passwd", path.c_str(), "alice"}, "\n"), 1);     // empty
  EXPECT_EQ(RunWithStdin({"passwd", path.c_str(), "a:b"}, "pw\n"), 1);     // bad name
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_EQ(RunWithStdin({"passwd", "-D", path.c_str(), "alice"}, ""), 1);  // no file
  EXPECT_EQ(RunWithStdin({"passwd", dir.File("no/such/dir").c_str(), "a"}, "pw\n"), 1);
  EXPECT_THAT(std::string(DeleteUser(path, "alice").message()), HasSubstr("no such file"));
}

}  // namespace
}  // namespace meshmq::auth
