// The password file: one user per line, PBKDF2-HMAC-SHA512 hashes (see docs/security.md).
//
//   # comment
//   alice:$pbkdf2-sha512$210000$<salt base64>$<hash base64>
//
// Loaded on the control thread, then immutable except for the verified-credentials cache,
// which has its own mutex: Check() may be called from any shard thread concurrently.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace meshmq::auth {

// OWASP's 2023 recommendation for PBKDF2-HMAC-SHA512.
inline constexpr int kDefaultIterations = 210000;

// Returns one password-file value "$pbkdf2-sha512$<iterations>$<salt>$<hash>" with a fresh
// 16-byte random salt and a 64-byte derived key (standard base64, padded).
std::string HashPassword(std::string_view password, int iterations = kDefaultIterations);

class PasswordFile {
 public:
  struct Entry {
    int iterations = 0;
    std::string salt;  // raw bytes
    std::string hash;  // raw bytes; its length is the derived-key length
  };

  // Parses `path`. Errors name "path:line" and never echo the hash text.
  static absl::StatusOr<PasswordFile> Load(const std::string& path);
  // Parses file text; `origin` names it in errors. Used by Load and by tests.
  static absl::StatusOr<PasswordFile> Parse(std::string_view text, std::string_view origin);

  PasswordFile(PasswordFile&&) noexcept;
  PasswordFile& operator=(PasswordFile&&) noexcept;
  ~PasswordFile();

  // Constant-time verification. An unknown user costs one PBKDF2 derivation too, so response
  // time does not reveal which user names exist. A successful check is cached (a keyed digest
  // of the password, not the password) so a reconnect storm costs one SHA-256 per CONNECT
  // instead of ~100 ms of PBKDF2; the cache dies with this object, i.e. on every reload.
  bool Check(std::string_view user, std::string_view password) const;

  bool Contains(std::string_view user) const;
  size_t size() const { return entries_.size(); }

 private:
  struct Cache;
  PasswordFile();

  std::map<std::string, Entry, std::less<>> entries_;
  Entry dummy_;  // verified against for unknown users
  std::unique_ptr<Cache> cache_;
};

// Parses one "$pbkdf2-sha512$..." value; the error text says what is wrong with it.
absl::StatusOr<PasswordFile::Entry> ParseHash(std::string_view value);

// A user name the password file can hold: non-empty, at most 65535 bytes, no ':' (the field
// separator), no whitespace or control characters (they would make the file ambiguous).
bool IsValidUserName(std::string_view user);

}  // namespace meshmq::auth
