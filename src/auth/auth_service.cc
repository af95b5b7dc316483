#include "auth/auth_service.h"

#include <spdlog/spdlog.h>

#include "absl/strings/escaping.h"
#include "auth/address_range.h"
#include "auth/text.h"

namespace meshmq::auth {
namespace {

// Client-supplied strings go into logs escaped and capped: no forged log lines, no floods.
std::string ForLog(std::string_view s) {
  constexpr size_t kMax = 128;
  std::string out = absl::CHexEscape(A(s.substr(0, kMax)));
  if (s.size() > kMax) out += "...";
  return out;
}

void LogRefusal(const ClientInfo& who, std::string_view why) {
  spdlog::info("auth: login refused ({}): user={} client_id='{}' address={}", why,
               who.has_username ? "'" + ForLog(who.username) + "'" : std::string("<none>"),
               ForLog(who.client_id), ForLog(who.address));
}

}  // namespace

std::string_view AuthResultName(AuthResult result) {
  switch (result) {
    case AuthResult::kAllowed:
      return "allowed";
    case AuthResult::kBadCredentials:
      return "bad credentials";
    case AuthResult::kNotAuthorized:
      return "not authorized";
    case AuthResult::kRateLimited:
      return "rate limited";
  }
  return "unknown";
}

absl::StatusOr<std::unique_ptr<AuthService>> AuthService::Create(AuthOptions options) {
  if (options.allow_anonymous == false && options.password_file.empty()) {
    return absl::InvalidArgumentError(
        "--allow-anonymous false needs --password-file (otherwise no client could connect)");
  }
  std::unique_ptr<AuthService> service(new AuthService(std::move(options)));
  absl::StatusOr<Snapshot> snapshot = service->LoadFiles();
  if (!snapshot.ok()) return snapshot.status();
  if (service->options_.http.enabled()) {
    auto http = HttpAuthBackend::Create(service->options_.http);
    if (!http.ok()) return http.status();
    service->http_ = *std::move(http);
  }
  absl::MutexLock lock(&service->mu_);
  service->snapshot_ = *std::move(snapshot);
  return service;
}

absl::StatusOr<AuthService::Snapshot> AuthService::LoadFiles() const {
  Snapshot next;
  if (!options_.password_file.empty()) {
    absl::StatusOr<PasswordFile> passwords = PasswordFile::Load(options_.password_file);
    if (!passwords.ok()) return passwords.status();
    next.passwords = std::make_shared<const PasswordFile>(*std::move(passwords));
  }
  if (options_.acl_file.empty()) {
    next.acl = std::make_shared<const Acl>(Acl::Effect::kAllow);
  } else {
    absl::StatusOr<Acl> acl = Acl::Load(options_.acl_file);
    if (!acl.ok()) return acl.status();
    next.acl = std::make_shared<const Acl>(*std::move(acl));
  }
  return next;
}

absl::Status AuthService::Reload() {
  absl::StatusOr<Snapshot> next = LoadFiles();  // outside the lock: PBKDF2-free but file I/O
  if (!next.ok()) {
    spdlog::warn("auth: reload failed, keeping the previous files: {}",
                 std::string(next.status().message()));
    return next.status();
  }
  spdlog::info("auth: reloaded: {} user(s), {} ACL rule(s)",
               next->passwords ? next->passwords->size() : 0, next->acl->rules().size());
  Snapshot old;  // released after the lock, so the last reference is not dropped under it
  {
    absl::MutexLock lock(&mu_);
    old = std::exchange(snapshot_, *std::move(next));
  }
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return absl::OkStatus();
}

AuthService::Snapshot AuthService::Current() const {
  absl::ReaderMutexLock lock(&mu_);
  return snapshot_;
}

std::shared_ptr<const Acl> AuthService::acl() const { return Current().acl; }

const Acl& AuthService::ThreadAcl() const {
  // One per thread (a shard is one thread), keyed by the service's instance number rather than
  // its address, which a later service in the same process may reuse.
  struct Cached {
    uint64_t instance = 0;
    uint64_t generation = 0;
    std::shared_ptr<const Acl> acl;
  };
  thread_local Cached cached;
  uint64_t now = generation();
  if (cached.instance != instance_ || cached.generation != now || !cached.acl) {
    cached.acl = acl();  // only after a reload: no lock per message
    cached.instance = instance_;
    cached.generation = now;
  }
  return *cached.acl;
}

uint64_t AuthService::NextInstance() {
  static std::atomic<uint64_t> next{0};
  return next.fetch_add(1, std::memory_order_relaxed) + 1;
}

bool AuthService::AnonymousAllowed(const Snapshot& snapshot) const {
  return options_.allow_anonymous.value_or(snapshot.passwords == nullptr);
}

AuthResult AuthService::Authenticate(const ClientInfo& who,
                                     std::optional<std::string_view> password) {
  return Authenticate(who, password, RateLimiter::Clock::now());
}

AuthResult AuthService::Authenticate(const ClientInfo& who,
                                     std::optional<std::string_view> password,
                                     RateLimiter::Clock::time_point now) {
  const Snapshot snapshot = Current();
  if (!who.has_username) {
    if (AnonymousAllowed(snapshot)) return AuthResult::kAllowed;
    LogRefusal(who, "anonymous clients not allowed");
    return AuthResult::kNotAuthorized;
  }
  if (snapshot.passwords == nullptr) return AuthResult::kAllowed;  // names are not verified
  // Checked before hashing: a blocked address costs no PBKDF2 at all.
  const std::string_view ip = PeerIp(who.address);  // one entry per host, not per port
  if (!limiter_.AllowAttempt(ip, now)) {
    spdlog::debug("auth: login attempt from blocked address {}", ForLog(who.address));
    return AuthResult::kRateLimited;
  }
  if (password.has_value() && snapshot.passwords->Check(who.username, *password)) {
    limiter_.RecordSuccess(ip);
    return AuthResult::kAllowed;
  }
  limiter_.RecordFailure(ip, now);
  LogRefusal(who, password.has_value() ? "bad user name or password" : "no password");
  return AuthResult::kBadCredentials;
}

void AuthService::AuthenticateAsync(const ClientInfo& who, std::optional<std::string> password,
                                    int protocol_version,
                                    std::function<void(AuthResult, bool)> done) {
  const Snapshot snapshot = Current();
  const bool in_file = who.has_username && snapshot.passwords != nullptr &&
                       snapshot.passwords->Contains(who.username);
  if (http_ == nullptr || !http_->has_auth() || in_file) {
    std::optional<std::string_view> pw;
    if (password) pw = *password;
    done(Authenticate(who, pw), false);
    return;
  }
  // The failed-login limiter is not applied here: it exists to spare PBKDF2 CPU, and the HTTP
  // service sees every attempt and can throttle by its own rules (docs/extending.md).
  LoginRequest request{who, std::nullopt, protocol_version};
  if (password) request.password = *password;
  // The request copies what it needs before Login returns; the callback keeps its own copies.
  http_->Login(request, [user = std::string(who.username), has_user = who.has_username,
                         id = std::string(who.client_id), ip = std::string(who.address),
                         done = std::move(done)](Decision d) {
    if (d.allow) {
      done(AuthResult::kAllowed, d.superuser);
      return;
    }
    LogRefusal(ClientInfo{user, has_user, id, ip}, "refused by the HTTP auth backend");
    done(d.not_authorized ? AuthResult::kNotAuthorized : AuthResult::kBadCredentials, false);
  });
}

bool AuthService::AuthorizePublish(const ClientInfo& who, std::string_view topic) const {
  return Current().acl->Allowed(who, Action::kPublish, topic);
}

bool AuthService::AuthorizeSubscribe(const ClientInfo& who, std::string_view filter) const {
  return Current().acl->Allowed(who, Action::kSubscribe, filter);
}

}  // namespace meshmq::auth
