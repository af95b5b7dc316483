#include "auth/password_file.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "auth/text.h"

namespace meshmq::auth {
namespace {

constexpr std::string_view kScheme = "pbkdf2-sha512";
constexpr int kMinIterations = 1000;
constexpr int kMaxIterations = 10000000;  // ~5 s per check: anything above is a typo
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 64;  // SHA-512 output: more would only cost more rounds

std::string Derive(std::string_view password, const std::string& salt, int iterations,
                   size_t length) {
  std::string out(length, '\0');
  const int ok =
      PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), iterations, EVP_sha512(),
                        static_cast<int>(length), reinterpret_cast<unsigned char*>(out.data()));
  if (ok != 1) out.clear();  // only on allocation failure; never equals a stored hash
  return out;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size() || a.empty()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    // The CSPRNG failing is unrecoverable for a security tool; never hash with a weak salt.
    std::abort();
  }
  return out;
}

}  // namespace

// Verified-credentials cache: user -> HMAC-SHA256(process-random key, password) of the last
// successful check. A keyed digest rather than a bare SHA-256 so a memory dump of the cache
// cannot be attacked with precomputed tables. Bounded by the number of users in the file.
struct PasswordFile::Cache {
  std::array<unsigned char, 32> key{};
  absl::Mutex mu;
  std::map<std::string, std::string, std::less<>> verified ABSL_GUARDED_BY(mu);

  Cache() {
    if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) std::abort();
  }

  std::string Digest(std::string_view password) const {
    std::string out(32, '\0');
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(password.data()), password.size(),
         reinterpret_cast<unsigned char*>(out.data()), &len);
    out.resize(len);
    return out;
  }
};

std::string HashPassword(std::string_view password, int iterations) {
  const std::string salt = RandomBytes(kSaltBytes);
  const std::string hash = Derive(password, salt, iterations, kHashBytes);
  return absl::StrCat("$", A(kScheme), "$", iterations, "$", absl::Base64Escape(salt), "$",
                      absl::Base64Escape(hash));
}

absl::StatusOr<PasswordFile::Entry> ParseHash(std::string_view value) {
  const std::vector<std::string_view> parts = Split(value, '$');
  // "$scheme$iter$salt$hash" splits into "", scheme, iter, salt, hash.
  if (parts.size() != 5 || !parts[0].empty()) {
    return absl::InvalidArgumentError("expected $pbkdf2-sha512$<iterations>$<salt>$<hash>");
  }
  if (parts[1] != kScheme) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported hash scheme '", absl::CHexEscape(A(parts[1])), "'"));
  }
  PasswordFile::Entry entry;
  if (!ParseInt(parts[2], &entry.iterations) || entry.iterations < kMinIterations ||
      entry.iterations > kMaxIterations) {
    return absl::InvalidArgumentError(absl::StrCat("iterations must be an integer from ",
                                                   kMinIterations, " to ", kMaxIterations));
  }
  if (!absl::Base64Unescape(A(parts[3]), &entry.salt) || entry.salt.size() < 8) {
    return absl::InvalidArgumentError("salt must be base64 of at least 8 bytes");
  }
  if (!absl::Base64Unescape(A(parts[4]), &entry.hash) || entry.hash.size() < 16 ||
      entry.hash.size() > kHashBytes) {
    return absl::InvalidArgumentError("hash must be base64 of 16 to 64 bytes");
  }
  return entry;
}

bool IsValidUserName(std::string_view user) {
  if (user.empty() || user.size() > 65535) return false;
  for (const char c : user) {
    const auto u = static_cast<unsigned char>(c);
    if (c == ':' || u <= 0x20 || u == 0x7f) return false;
  }
  return true;
}

PasswordFile::PasswordFile() : cache_(std::make_unique<Cache>()) {
  dummy_.iterations = kDefaultIterations;
  dummy_.salt = RandomBytes(kSaltBytes);
  dummy_.hash = RandomBytes(kHashBytes);
}
PasswordFile::PasswordFile(PasswordFile&&) noexcept = default;
PasswordFile& PasswordFile::operator=(PasswordFile&&) noexcept = default;
PasswordFile::~PasswordFile() = default;

absl::StatusOr<PasswordFile> PasswordFile::Parse(std::string_view text, std::string_view origin) {
  PasswordFile file;
  int max_iterations = 0;
  int line_no = 0;
  for (std::string_view line : Split(text, '\n')) {
    ++line_no;
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    const auto where = [&] { return absl::StrCat(A(origin), ":", line_no, ": "); };
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(where(), "expected user:hash"));
    }
    const std::string_view user = line.substr(0, colon);
    if (!IsValidUserName(user)) {
      return absl::InvalidArgumentError(absl::StrCat(where(), "invalid user name"));
    }
    absl::StatusOr<Entry> entry = ParseHash(line.substr(colon + 1));
    if (!entry.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(), "user '", A(user), "': ", entry.status().message()));
    }
    max_iterations = std::max(max_iterations, entry->iterations);
    if (!file.entries_.emplace(std::string(user), *std::move(entry)).second) {
      return absl::InvalidArgumentError(absl::StrCat(where(), "duplicate user '", A(user), "'"));
    }
  }
  // Unknown users cost what the most expensive real user costs, so timing reveals nothing.
  if (max_iterations > 0) file.dummy_.iterations = max_iterations;
  return file;
}

absl::StatusOr<PasswordFile> PasswordFile::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open password file"));
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::UnavailableError(absl::StrCat(path, ": read error"));
  return Parse(text.str(), path);
}

bool PasswordFile::Contains(std::string_view user) const {
  return entries_.find(user) != entries_.end();
}

bool PasswordFile::Check(std::string_view user, std::string_view password) const {
  const auto it = entries_.find(user);
  if (it == entries_.end()) {
    Derive(password, dummy_.salt, dummy_.iterations, dummy_.hash.size());  // equalise timing
    return false;
  }
  const std::string digest = cache_->Digest(password);
  {
    absl::MutexLock lock(&cache_->mu);
    const auto cached = cache_->verified.find(user);
    if (cached != cache_->verified.end() && ConstantTimeEqual(cached->second, digest)) return true;
  }
  const Entry& entry = it->second;
  const std::string derived = Derive(password, entry.salt, entry.iterations, entry.hash.size());
  if (!ConstantTimeEqual(derived, entry.hash)) return false;
  absl::MutexLock lock(&cache_->mu);
  cache_->verified.insert_or_assign(std::string(user), digest);
  return true;
}

}  // namespace meshmq::auth
