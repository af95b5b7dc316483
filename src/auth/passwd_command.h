// `meshmq passwd [-D] FILE USER`: add, replace or delete one user in a password file.
//
// Runs on the main thread of a short-lived process; never part of the broker's data path.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "auth/password_file.h"

namespace meshmq::auth {

// Adds or replaces `user` with a fresh hash of `password`. Creates `path` (mode 0600) when it is
// missing. Other lines, comments included, are kept byte for byte. The new file is written to a
// temporary file in the same directory, fsynced, then renamed over `path`, so a reader (or a
// crash) sees either the old file or the new one, never half of one.
absl::Status SetPassword(const std::string& path, std::string_view user, std::string_view password,
                         int iterations = kDefaultIterations);

// Removes `user`; NotFound when the file or the user does not exist.
absl::Status DeleteUser(const std::string& path, std::string_view user);

// argv[0] is "passwd" (the sub-command); returns the process exit status: 0 on success, 1 on
// an error (one line on stderr), 2 on a usage error. The password comes from stdin: one line
// when stdin is not a terminal (scripts: `echo secret | meshmq passwd f alice`), otherwise
// typed twice with echo off.
int PasswdCommand(int argc, const char* const* argv);

}  // namespace meshmq::auth
