#include "auth/http_backend.h"

#include <openssl/sha.h>

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"

namespace meshmq::auth {
namespace {

using Json = nlohmann::json;

const char* ActionName(Action action) {
  return action == Action::kPublish ? "publish" : "subscribe";
}

Json Identity(const ClientInfo& who) {
  Json j;
  j["clientid"] = std::string(who.client_id);
  j["username"] = who.has_username ? Json(std::string(who.username)) : Json(nullptr);
  j["address"] = std::string(who.address);
  return j;
}

// Keys hold the identity fields NUL-separated; the password only as its SHA-256, so the cache
// never holds a password.
void AppendIdentity(std::string& key, const ClientInfo& who) {
  constexpr std::string_view kSep("\0", 1);
  key.append(who.has_username ? "u" : "-").append(who.username).append(kSep);
  key.append(who.client_id).append(kSep).append(who.address).append(kSep);
}

std::string LoginKey(const LoginRequest& r) {
  std::string key = absl::StrCat("L", r.protocol_version, ":");
  AppendIdentity(key, r.who);
  if (r.password) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(r.password->data()), r.password->size(), digest);
    key.append("p");
    key.append(reinterpret_cast<const char*>(digest), sizeof(digest));
  }
  return key;
}

std::string AclKey(const ClientInfo& who, Action action, std::string_view topic) {
  std::string key = action == Action::kPublish ? "P:" : "S:";
  AppendIdentity(key, who);
  key.append(topic);
  return key;
}

}  // namespace

std::string LoginBody(const LoginRequest& r) {
  Json j = Identity(r.who);
  // Passwords are binary data in MQTT; invalid UTF-8 is replaced rather than failing the dump.
  j["password"] = r.password ? Json(std::string(*r.password)) : Json(nullptr);
  j["protocol_version"] = r.protocol_version;
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string AclBody(const ClientInfo& who, Action action, std::string_view topic) {
  Json j = Identity(who);
  j["topic"] = std::string(topic);
  j["action"] = ActionName(action);
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::optional<Decision> ParseDecision(std::string_view body) {
  Json j = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  auto result = j.find("result");
  if (result == j.end() || !result->is_string()) return std::nullopt;
  Decision d;
  const std::string& r = result->get_ref<const std::string&>();
  if (r == "allow") {
    d.allow = true;
  } else if (r != "deny") {
    return std::nullopt;
  }
  if (auto su = j.find("superuser"); su != j.end() && su->is_boolean()) {
    d.superuser = d.allow && su->get<bool>();
  }
  if (auto reason = j.find("reason"); reason != j.end() && reason->is_string()) {
    d.not_authorized = reason->get<std::string>() == "not_authorized";
  }
  return d;
}

absl::StatusOr<std::unique_ptr<HttpAuthBackend>> HttpAuthBackend::Create(HttpAuthOptions options) {
  std::optional<HttpUrl> auth_url, acl_url;
  if (!options.auth_url.empty() && !(auth_url = HttpUrl::Parse(options.auth_url))) {
    return absl::InvalidArgumentError("--auth-http-url: expected http://host[:port]/path");
  }
  if (!options.acl_url.empty() && !(acl_url = HttpUrl::Parse(options.acl_url))) {
    return absl::InvalidArgumentError("--acl-http-url: expected http://host[:port]/path");
  }
  std::unique_ptr<HttpAuthBackend> b(new HttpAuthBackend(std::move(options)));
  const auto timeout = std::chrono::milliseconds(b->options_.timeout_ms);
  const size_t idle = static_cast<size_t>(b->options_.max_concurrency);
  if (auth_url) b->auth_ = std::make_unique<HttpPoster>(b->io_, *auth_url, timeout, idle);
  if (acl_url) b->acl_ = std::make_unique<HttpPoster>(b->io_, *acl_url, timeout, idle);
  b->thread_ = std::thread([io = &b->io_] { io->run(); });
  return b;
}

HttpAuthBackend::HttpAuthBackend(HttpAuthOptions options)
    : options_(std::move(options)),
      cache_(std::chrono::milliseconds(options_.cache_ttl_ms), options_.cache_entries),
      guard_(io_.get_executor()) {}

HttpAuthBackend::~HttpAuthBackend() {
  guard_.reset();
  io_.stop();  // requests in flight are abandoned; their clients are going away with the node
  if (thread_.joinable()) thread_.join();
}

void HttpAuthBackend::Login(const LoginRequest& request, std::function<void(Decision)> done) {
  std::string key = LoginKey(request);
  if (std::optional<Decision> hit = cache_.Find(key)) {
    stats_.cache_hits.fetch_add(1, std::memory_order_relaxed);
    done(*hit);
    return;
  }
  Submit(Job{auth_.get(), LoginBody(request), std::move(key), std::move(done)});
}

std::optional<bool> HttpAuthBackend::CachedAcl(const ClientInfo& who, Action action,
                                               std::string_view topic) {
  std::optional<Decision> hit = cache_.Find(AclKey(who, action, topic));
  if (!hit) return std::nullopt;
  stats_.cache_hits.fetch_add(1, std::memory_order_relaxed);
  return hit->allow;
}

void HttpAuthBackend::CheckAcl(const ClientInfo& who, Action action, std::string_view topic,
                               std::function<void(bool)> done) {
  Submit(Job{acl_.get(), AclBody(who, action, topic), AclKey(who, action, topic),
             [done = std::move(done)](Decision d) { done(d.allow); }});
}

void HttpAuthBackend::Submit(Job job) {
  boost::asio::post(io_, [this, job = std::move(job)]() mutable {
    if (in_flight_ < options_.max_concurrency) {
      Start(std::move(job));
    } else if (waiting_.size() < options_.max_waiting) {
      waiting_.push_back(std::move(job));  // bounded concurrency: waits for a free slot
    } else {
      stats_.rejected.fetch_add(1, std::memory_order_relaxed);
      job.done(OnFailure());
    }
  });
}

void HttpAuthBackend::Start(Job job) {
  ++in_flight_;
  stats_.requests.fetch_add(1, std::memory_order_relaxed);
  HttpPoster* poster = job.poster;
  std::string body = std::move(job.body);
  poster->Post(std::move(body), [this, job = std::move(job)](auto reply) {
    Finish(job, std::move(reply));
    --in_flight_;
    if (!waiting_.empty() && in_flight_ < options_.max_concurrency) {
      Job next = std::move(waiting_.front());
      waiting_.pop_front();
      Start(std::move(next));
    }
  });
}

void HttpAuthBackend::Finish(const Job& job, absl::StatusOr<HttpPoster::Reply> reply) {
  // Never log the request body: a login body holds the password.
  if (!reply.ok()) {
    if (absl::IsDeadlineExceeded(reply.status())) {
      stats_.timeouts.fetch_add(1, std::memory_order_relaxed);
    } else {
      stats_.errors.fetch_add(1, std::memory_order_relaxed);
    }
    spdlog::warn("auth http: backend request failed ({}); {} by policy",
                 std::string(reply.status().message()), options_.allow_on_failure ? "allowed" : "denied");
    job.done(OnFailure());  // failures are not cached: the next request asks again
    return;
  }
  std::optional<Decision> decision;
  if (reply->status >= 200 && reply->status < 300) decision = ParseDecision(reply->body);
  if (!decision) {
    stats_.errors.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("auth http: backend answered HTTP {} without a valid decision; {} by policy",
                 reply->status, options_.allow_on_failure ? "allowed" : "denied");
    job.done(OnFailure());
    return;
  }
  cache_.Put(job.cache_key, *decision);
  job.done(*decision);
}

}  // namespace meshmq::auth
