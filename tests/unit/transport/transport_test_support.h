// Helpers for transport tests: a running broker with listeners on 127.0.0.1:0, a throw-away PKI
// made with the openssl tool, and real client processes (mosquitto_pub/sub, openssl s_client,
// node + MQTT.js) run through the shell with a time limit.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "broker/broker.h"
#include "transport/listener.h"

namespace meshmq::transport::testing {

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `command` with /bin/sh, stderr folded into stdout.
inline RunResult Shell(const std::string& command) {
  RunResult result;
  FILE* pipe = popen(("(" + command + ") 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) result.output.append(buf, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

inline std::future<RunResult> ShellAsync(const std::string& command) {
  return std::async(std::launch::async, [command] { return Shell(command); });
}

inline std::string SourceDir() {
  // Set by tests/CMakeLists.txt: __FILE__ is relative when ccache rewrites paths (base_dir).
  return MESHMQ_TEST_SOURCE_DIR;
}

// A CA, a second unrelated CA, server and client certificates for 127.0.0.1/localhost, an expired
// server certificate, a server certificate from the second CA and a client certificate from it.
class TestPki {
 public:
  TestPki() {
    char tmpl[] = "/tmp/meshmq-pki-XXXXXX";
    dir_ = mkdtemp(tmpl);
    Ok("openssl req -x509 " + kKey + " -nodes -days 30 -subj /CN=meshmq-test-ca -keyout " +
       Path("ca.key") + " -out " + Path("ca.pem"));
    Ok("openssl req -x509 " + kKey + " -nodes -days 30 -subj /CN=other-ca -keyout " +
       Path("other-ca.key") + " -out " + Path("other-ca.pem"));
    Ok("printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > " + Path("san.ext"));
    Issue("server", "ca", "127.0.0.1", 30, true);
    Issue("server-expired", "ca", "127.0.0.1", -1, true);
    Issue("server-other", "other-ca", "127.0.0.1", 30, true);
    Issue("client", "ca", "client-1", 30, false);
    Issue("client-other", "other-ca", "client-2", 30, false);
  }
  ~TestPki() { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  // Settings for a server using `name`.pem/.key (e.g. "server").
  TlsSettings Server(const std::string& name = "server") const {
    TlsSettings s;
    s.cert_file = Path(name + ".pem");
    s.key_file = Path(name + ".key");
    return s;
  }

 private:
  // EC keys: generated in milliseconds, unlike RSA.
  static inline const std::string kKey = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1";
  // -days -1 gives a certificate whose notAfter lies before now: expired.
  void Issue(const std::string& name, const std::string& ca, const std::string& cn, int days,
             bool server) {
    Ok("openssl req " + kKey + " -nodes -subj /CN=" + cn + " -keyout " + Path(name + ".key") +
       " -out " + Path(name + ".csr"));
    Ok("openssl x509 -req -in " + Path(name + ".csr") + " -CA " + Path(ca + ".pem") + " -CAkey " +
       Path(ca + ".key") + " -CAcreateserial -days " + std::to_string(days) + " -out " +
       Path(name + ".pem") + (server ? " -extfile " + Path("san.ext") : ""));
  }
  static void Ok(const std::string& command) {
    RunResult r = Shell(command);
    ASSERT_EQ(r.exit_code, 0) << command << "\n" << r.output;
  }

  std::string dir_;
};

// A started broker (2 shards) and listeners bound to 127.0.0.1:0.
class BrokerWithListeners {
 public:
  BrokerWithListeners() : broker_(Options()) {}
  ~BrokerWithListeners() {
    for (auto& l : listeners_) l->Stop();
    broker_.Stop();
  }

  static broker::BrokerOptions Options() {
    broker::BrokerOptions o;
    o.workers = 2;
    o.sys_interval_s = 0;
    return o;
  }

  // Adds and starts a listener; null (with a test failure) if it cannot listen.
  Listener* Add(ListenerConfig config) {
    config.host = "127.0.0.1";
    config.port = 0;
    auto listener = std::make_unique<Listener>(broker_, std::move(config));
    absl::Status s = listener->Listen();
    EXPECT_TRUE(s.ok()) << s;
    if (!s.ok()) return nullptr;
    if (!started_) {
      broker_.Start();
      started_ = true;
    }
    listener->Start();
    listeners_.push_back(std::move(listener));
    return listeners_.back().get();
  }

  broker::Broker& broker() { return broker_; }

  // Waits until the broker counts `n` subscriptions (a subscriber is ready).
  bool WaitForSubscriptions(int64_t n) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (broker_.Stats().subscriptions >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

 private:
  broker::Broker broker_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  bool started_ = false;
};

}  // namespace meshmq::transport::testing
