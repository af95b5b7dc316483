// meshmq-bench: MQTT load generator. Holds tens of thousands of connections or drives
// publishers and subscribers in a chosen topic layout, then reports throughput, loss and latency
// (a human summary on stderr, one JSON line on stdout). See docs/benchmarks.md.
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <string>

#include "tools/bench/options.h"
#include "tools/bench/runner.h"

namespace {

// Every connection is a file descriptor: take the hard limit (20,000 on the bench machines).
void RaiseFdLimit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  lim.rlim_cur = lim.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &lim) != 0) std::perror("meshmq-bench: setrlimit");
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
      std::fputs(meshmq::bench::Usage(), stdout);
      return 0;
    }
  }
  std::string error;
  auto options = meshmq::bench::ParseOptions(argc, argv, error);
  if (!options) {
    std::fprintf(stderr, "meshmq-bench: %s\n%s", error.c_str(), meshmq::bench::Usage());
    return 2;
  }
  RaiseFdLimit();
  std::signal(SIGPIPE, SIG_IGN);  // a broker closing a socket must be an error value, not a death
  meshmq::bench::Runner runner(*options);
  return runner.Run();
}
