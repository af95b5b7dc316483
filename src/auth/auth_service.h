// Authentication and authorization for the broker: the password file, the ACL, the anonymous
// policy and the failed-login rate limiter behind one thread-safe object.
//
// Threads: created on the main thread; Authenticate/Authorize* are called from any shard
// thread; Reload() from the control thread on SIGHUP. The files live in immutable snapshots
// (shared_ptr<const ...>) swapped under a mutex, so a check in flight keeps using the snapshot
// it started with while a reload installs the next one.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "auth/acl.h"
#include "auth/client_info.h"
#include "auth/http_backend.h"
#include "auth/password_file.h"
#include "auth/rate_limiter.h"

namespace meshmq::auth {

struct AuthOptions {
  std::string password_file;  // --password-file; empty: user names are not verified
  std::string acl_file;       // --acl-file; empty: every publish and subscribe is allowed
  // --allow-anonymous: may a client without a user name connect? Unset: only when there is no
  // password file. false without a password file is rejected by Create (nobody could log in).
  std::optional<bool> allow_anonymous;
  RateLimiter::Options rate_limit;
  HttpAuthOptions http;  // --auth-http-url, --acl-http-url ... (docs/extending.md)
};

enum class AuthResult { kAllowed, kBadCredentials, kNotAuthorized, kRateLimited };
std::string_view AuthResultName(AuthResult result);

class AuthService {
 public:
  // Loads the configured files; the error names the file and line.
  static absl::StatusOr<std::unique_ptr<AuthService>> Create(AuthOptions options);

  // Re-reads both files. On any error the current password file and ACL stay in force and the
  // error is returned (for the SIGHUP handler to log). Verified-login cache starts empty.
  absl::Status Reload();

  // CONNECT: `who.has_username` false is an anonymous client (a password without a user name
  // is ignored). Never logs the password; logs failures at info with user, client id, address.
  AuthResult Authenticate(const ClientInfo& who, std::optional<std::string_view> password);
  AuthResult Authenticate(const ClientInfo& who, std::optional<std::string_view> password,
                          RateLimiter::Clock::time_point now);

  // The whole login chain (docs/extending.md, "Order of the checks"): the password file decides
  // users it holds; other clients go to the HTTP backend when --auth-http-url is set. Call on
  // the auth pool (PBKDF2); `done(result, superuser)` runs on the auth pool or the HTTP
  // backend's thread and should only post onward.
  void AuthenticateAsync(const ClientInfo& who, std::optional<std::string> password,
                         int protocol_version, std::function<void(AuthResult, bool)> done);

  // The HTTP ACL backend, or nullptr when --acl-http-url is not set.
  HttpAuthBackend* http_acl() const { return http_ && http_->has_acl() ? http_.get() : nullptr; }
  HttpAuthBackend* http() const { return http_.get(); }

  bool AuthorizePublish(const ClientInfo& who, std::string_view topic) const;
  bool AuthorizeSubscribe(const ClientInfo& who, std::string_view filter) const;

  // For a shard that caches the ACL to avoid the mutex on every PUBLISH: re-fetch acl() only
  // when generation() (one relaxed atomic load) differs from the cached one.
  std::shared_ptr<const Acl> acl() const;
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  // The current ACL through a per-thread cache: one atomic load unless a reload happened. The
  // reference is valid until this thread's next call.
  const Acl& ThreadAcl() const;

 private:
  struct Snapshot {
    std::shared_ptr<const PasswordFile> passwords;  // null: no password file
    std::shared_ptr<const Acl> acl;                 // never null
  };

  explicit AuthService(AuthOptions options)
      : options_(std::move(options)), limiter_(options_.rate_limit) {}
  absl::StatusOr<Snapshot> LoadFiles() const;
  static uint64_t NextInstance();
  Snapshot Current() const;
  bool AnonymousAllowed(const Snapshot& snapshot) const;

  const AuthOptions options_;
  RateLimiter limiter_;
  mutable absl::Mutex mu_;
  Snapshot snapshot_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> generation_{0};
  const uint64_t instance_ = NextInstance();  // tells ThreadAcl's caches of two services apart
  std::unique_ptr<HttpAuthBackend> http_;  // null without HTTP URLs; its thread stops first
};

}  // namespace meshmq::auth
