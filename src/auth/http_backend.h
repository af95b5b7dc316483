// The HTTP authentication and ACL backend: asks an external service, by JSON over HTTP, whether
// a client may log in and whether it may publish or subscribe to a topic (protocol in
// docs/extending.md). Decisions are cached with a TTL; a failing or slow service gets the
// configured failure policy (deny unless told otherwise).
//
// Threads: owns one io_context and thread where every HTTP exchange runs, so no shard or auth
// pool thread ever waits on the network. Login/CheckAcl may be called from any thread; their
// completions run on the backend thread (or inline on a cache hit) and must only post onward.
// CachedAcl is a lock-striped lookup, callable from any shard.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "absl/status/statusor.h"
#include "auth/client_info.h"
#include "auth/decision_cache.h"
#include "auth/http_poster.h"

namespace meshmq::auth {

struct HttpAuthOptions {
  std::string auth_url;  // --auth-http-url; empty: logins are not sent to HTTP
  std::string acl_url;   // --acl-http-url; empty: publish/subscribe are not sent to HTTP
  int timeout_ms = 2000;          // --auth-http-timeout-ms: whole exchange, connect included
  int cache_ttl_ms = 60000;       // --auth-http-cache-ttl-ms; 0 = no cache
  bool allow_on_failure = false;  // --auth-http-failure-policy allow|deny
  int max_concurrency = 16;       // --auth-http-max-concurrency: requests in flight at once
  size_t max_waiting = 10000;     // beyond this many queued requests, the failure policy applies
  size_t cache_entries = 100000;

  bool enabled() const { return !auth_url.empty() || !acl_url.empty(); }
};

// Counters for /metrics (relaxed atomics; any thread).
struct HttpAuthStats {
  std::atomic<uint64_t> requests{0};    // HTTP requests sent
  std::atomic<uint64_t> errors{0};      // connection errors, non-2xx replies, malformed JSON
  std::atomic<uint64_t> timeouts{0};
  std::atomic<uint64_t> cache_hits{0};
  std::atomic<uint64_t> rejected{0};    // refused because too many requests were waiting
};

// What the login request carries. Strings are copied into the request before Login returns.
struct LoginRequest {
  ClientInfo who;
  std::optional<std::string_view> password;
  int protocol_version = 4;  // 3 = MQTT 3.1, 4 = 3.1.1, 5 = 5.0 (the CONNECT protocol level)
};

class HttpAuthBackend {
 public:
  static absl::StatusOr<std::unique_ptr<HttpAuthBackend>> Create(HttpAuthOptions options);
  ~HttpAuthBackend();

  bool has_auth() const { return auth_ != nullptr; }
  bool has_acl() const { return acl_ != nullptr; }

  void Login(const LoginRequest& request, std::function<void(Decision)> done);

  // A cached ACL verdict, or nullopt (ask with CheckAcl). Counts a cache hit.
  std::optional<bool> CachedAcl(const ClientInfo& who, Action action, std::string_view topic);
  void CheckAcl(const ClientInfo& who, Action action, std::string_view topic,
                std::function<void(bool)> done);

  const HttpAuthStats& stats() const { return stats_; }
  const HttpAuthOptions& options() const { return options_; }

 private:
  struct Job {
    HttpPoster* poster;
    std::string body;
    std::string cache_key;
    std::function<void(Decision)> done;
  };
  explicit HttpAuthBackend(HttpAuthOptions options);
  void Submit(Job job);    // any thread
  void Start(Job job);     // backend thread
  void Finish(const Job& job, absl::StatusOr<HttpPoster::Reply> reply);
  Decision OnFailure() const { return Decision{options_.allow_on_failure, false, true}; }

  const HttpAuthOptions options_;
  HttpAuthStats stats_;
  DecisionCache cache_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::unique_ptr<HttpPoster> auth_;
  std::unique_ptr<HttpPoster> acl_;
  // Backend thread only.
  int in_flight_ = 0;
  std::deque<Job> waiting_;
  std::thread thread_;  // last: started after everything above exists
};

// The JSON bodies and the reply parser, exposed for tests.
std::string LoginBody(const LoginRequest& request);
std::string AclBody(const ClientInfo& who, Action action, std::string_view topic);
// nullopt when the body is not a JSON object with "result": "allow"|"deny".
std::optional<Decision> ParseDecision(std::string_view body);

}  // namespace meshmq::auth
