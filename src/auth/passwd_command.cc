#include "auth/passwd_command.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "auth/text.h"

namespace meshmq::auth {
namespace {

constexpr char kUsage[] = "usage: meshmq passwd [-D] FILE USER";

absl::Status ErrnoError(std::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(path, ": ", A(what), ": ", std::strerror(errno)));
}

// The file's lines, or an empty list when it does not exist yet.
absl::StatusOr<std::vector<std::string>> ReadLines(const std::string& path, bool must_exist) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT && !must_exist) return std::vector<std::string>{};
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
    return ErrnoError("cannot open", path);
  }
  std::stringstream text;
  text << in.rdbuf();
  const std::string content = text.str();
  std::vector<std::string> lines;
  for (std::string_view line : Split(content, '\n')) lines.emplace_back(line);
  if (!lines.empty() && lines.back().empty()) lines.pop_back();  // trailing newline
  return lines;
}

bool IsLineFor(std::string_view line, std::string_view user) {
  line = Trim(line);
  return line.starts_with(user) && line.size() > user.size() && line[user.size()] == ':';
}

absl::Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("write failed", path);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// Temp file in the same directory (rename is atomic only within one file system), mode 0600
// from creation so the hashes are never readable by others, even briefly.
absl::Status WriteAtomically(const std::string& path, const std::vector<std::string>& lines) {
  std::string content;
  for (const std::string& line : lines) absl::StrAppend(&content, line, "\n");
  std::string tmp = absl::StrCat(path, ".tmp.XXXXXX");
  const int fd = ::mkstemp(tmp.data());  // creates with mode 0600
  if (fd < 0) return ErrnoError("cannot create a temporary file next to it", path);
  absl::Status status = WriteAll(fd, content, tmp);
  if (status.ok() && ::fchmod(fd, 0600) != 0) status = ErrnoError("chmod failed", tmp);
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoError("fsync failed", tmp);
  if (::close(fd) != 0 && status.ok()) status = ErrnoError("close failed", tmp);
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    status = ErrnoError("rename failed", path);
  }
  if (!status.ok()) ::unlink(tmp.c_str());
  return status;
}

// Reads byte by byte from the descriptor (no stdio buffering) so nothing after the line is
// consumed and a test can swap fd 0 between calls.
std::optional<std::string> ReadLine(int fd) {
  std::string line;
  char c = 0;
  bool any = false;
  while (true) {
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    any = true;
    if (c == '\n') break;
    line.push_back(c);
  }
  if (!any) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// Prompts on stderr with terminal echo off; restores the terminal on every path.
std::optional<std::string> PromptHidden(const char* prompt) {
  termios saved{};
  const bool is_tty = ::tcgetattr(STDIN_FILENO, &saved) == 0;
  if (is_tty) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::fputs(prompt, stderr);
  std::optional<std::string> line = ReadLine(STDIN_FILENO);
  if (is_tty) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
  std::fputs("\n", stderr);
  return line;
}

absl::StatusOr<std::string> ReadPassword() {
  if (!::isatty(STDIN_FILENO)) {
    std::optional<std::string> line = ReadLine(STDIN_FILENO);
    if (!line) return absl::InvalidArgumentError("no password on stdin");
    return *std::move(line);
  }
  std::optional<std::string> first = PromptHidden("Password: ");
  std::optional<std::string> second = first ? PromptHidden("Reenter password: ") : std::nullopt;
  if (!first || !second) return absl::InvalidArgumentError("no password entered");
  if (*first != *second) return absl::InvalidArgumentError("passwords do not match");
  return *std::move(first);
}

}  // namespace

absl::Status SetPassword(const std::string& path, std::string_view user, std::string_view password,
                         int iterations) {
  if (!IsValidUserName(user)) {
    return absl::InvalidArgumentError(
        "invalid user name (empty, or contains ':', whitespace or control characters)");
  }
  if (password.empty()) return absl::InvalidArgumentError("empty password");
  absl::StatusOr<std::vector<std::string>> lines = ReadLines(path, /*must_exist=*/false);
  if (!lines.ok()) return lines.status();
  const std::string entry = absl::StrCat(A(user), ":", HashPassword(password, iterations));
  bool replaced = false;
  for (std::string& line : *lines) {
    if (IsLineFor(line, user)) {
      line = entry;
      replaced = true;
    }
  }
  if (!replaced) lines->push_back(entry);
  return WriteAtomically(path, *lines);
}

absl::Status DeleteUser(const std::string& path, std::string_view user) {
  absl::StatusOr<std::vector<std::string>> lines = ReadLines(path, /*must_exist=*/true);
  if (!lines.ok()) return lines.status();
  const size_t before = lines->size();
  std::erase_if(*lines, [&](const std::string& line) { return IsLineFor(line, user); });
  if (lines->size() == before) {
    return absl::NotFoundError(absl::StrCat(path, ": no user '", absl::CHexEscape(A(user)), "'"));
  }
  return WriteAtomically(path, *lines);
}

int PasswdCommand(int argc, const char* const* argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  const bool remove = !args.empty() && args[0] == "-D";
  if (remove) args.erase(args.begin());
  if (args.size() != 2 || args[0].empty() || args[0].starts_with("-")) {
    std::cerr << kUsage << "\n";
    return 2;
  }
  const std::string path(args[0]);
  const std::string_view user = args[1];
  absl::Status status;
  if (remove) {
    status = DeleteUser(path, user);
  } else {
    absl::StatusOr<std::string> password = ReadPassword();
    status = password.ok() ? SetPassword(path, user, *password) : password.status();
  }
  if (!status.ok()) {
    std::cerr << "meshmq passwd: " << status.message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace meshmq::auth
