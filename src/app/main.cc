// meshmq: the broker executable. Parses the configuration, starts a Node, and stops it on
// SIGINT/SIGTERM.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <thread>

#include <spdlog/spdlog.h>

#include "absl/synchronization/mutex.h"

#include "app/logging.h"
#include "app/node.h"
#include "auth/passwd_command.h"
#include "config/config.h"

int main(int argc, char** argv, char** envp) {
  // Debian builds Abseil without NDEBUG, which turns on absl::Mutex deadlock detection: every
  // Lock() then records a stack trace in one process-wide graph behind one global spinlock (seen
  // in profiles of cross-node forwarding). The unit tests keep it; the broker does not pay for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // `meshmq passwd FILE USER`: manage the password file, then exit.
  if (argc > 1 && std::string_view(argv[1]) == "passwd") {
    return meshmq::auth::PasswdCommand(argc - 1, argv + 1);
  }
  meshmq::config::LoadResult loaded = meshmq::config::Load(argc, argv, envp);
  if (loaded.exit_now) {
    if (!loaded.output.empty()) std::fputs(loaded.output.c_str(), stdout);
    if (!loaded.error.empty()) std::fprintf(stderr, "%s\n", loaded.error.c_str());
    return loaded.exit_code;
  }
  // Signals are taken by sigwait below; block them before any thread starts so none of the
  // worker threads is interrupted.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  meshmq::app::SetUpLogging(loaded.config);
  meshmq::app::Node node(loaded.config);
  if (absl::Status status = node.Start(); !status.ok()) {
    std::fprintf(stderr, "meshmq: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGHUP) {
      node.Reload();
      if (absl::Status s = node.ReloadCertificates(); !s.ok()) {
        spdlog::error("SIGHUP: {}", std::string(s.message()));
      }
      continue;
    }
    spdlog::info("signal {}: shutting down", sig);
    break;
  }
  // The drain is bounded: whatever hangs, the process is gone before Kubernetes' grace period.
  std::thread([ms = loaded.config.drain_timeout_ms] {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    std::fprintf(stderr, "meshmq: shutdown took longer than --drain-timeout-ms=%u, exiting\n", ms);
    std::_Exit(1);
  }).detach();
  node.Stop();
  spdlog::info("stopped");
  spdlog::shutdown();
  return 0;
}
