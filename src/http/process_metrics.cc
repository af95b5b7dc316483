// Process metrics from /proc/self, named as the Prometheus client libraries name them so the
// usual dashboards work unchanged.
#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "http/metrics_snapshot.h"

namespace meshmq::http {
namespace {

// Seconds since the epoch at which the machine booted, from /proc/stat's btime.
double BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double t = 0;
      in >> t;
      return t;
    }
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

// Fields of /proc/self/stat after the parenthesized command name, which may contain spaces.
void ReadStat(ProcessMetrics& m) {
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return;
  size_t close = line.rfind(')');
  if (close == std::string::npos) return;
  std::istringstream fields(line.substr(close + 2));
  // Field 3 (state) is index 0 here; utime=14, stime=15, starttime=22, vsize=23, rss=24.
  std::string f[23];
  for (auto& s : f) fields >> s;
  double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  if (ticks <= 0 || f[22].empty()) return;
  m.cpu_seconds =
      (std::strtod(f[11].c_str(), nullptr) + std::strtod(f[12].c_str(), nullptr)) / ticks;
  m.start_time_seconds = BootTimeSeconds() + std::strtod(f[19].c_str(), nullptr) / ticks;
  m.virtual_memory_bytes = std::strtoll(f[20].c_str(), nullptr, 10);
  m.resident_memory_bytes = static_cast<int64_t>(std::strtod(f[21].c_str(), nullptr) * page);
}

int64_t CountOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  int64_t n = 0;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n - 1;  // the descriptor opendir itself holds
}

}  // namespace

ProcessMetrics ReadProcessMetrics() {
  ProcessMetrics m;
  ReadStat(m);
  m.open_fds = CountOpenFds();
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) m.max_fds = static_cast<int64_t>(limit.rlim_cur);
  return m;
}

}  // namespace meshmq::http
