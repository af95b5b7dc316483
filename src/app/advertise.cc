#include "app/advertise.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

namespace meshmq::app {

namespace {

std::string FirstNonLoopbackIPv4() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return {};
  std::string found;
  for (ifaddrs* it = list; it != nullptr && found.empty(); it = it->ifa_next) {
    if (it->ifa_addr == nullptr || it->ifa_addr->sa_family != AF_INET) continue;
    if ((it->ifa_flags & IFF_LOOPBACK) != 0 || (it->ifa_flags & IFF_UP) == 0) continue;
    char buf[INET_ADDRSTRLEN] = {};
    auto* sin = reinterpret_cast<sockaddr_in*>(it->ifa_addr);
    if (inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf)) != nullptr) found = buf;
  }
  freeifaddrs(list);
  return found;
}

}  // namespace

std::string ClusterAdvertiseAddress(const config::Config& config) {
  if (!config.cluster_advertise.empty()) return config.cluster_advertise;
  const std::string& host = config.cluster_listen.host;
  std::string port = std::to_string(config.cluster_listen.port);
  if (host != "0.0.0.0" && host != "::" && !host.empty()) return config.cluster_listen.ToString();
  std::string ip = FirstNonLoopbackIPv4();
  if (ip.empty()) ip = "127.0.0.1";  // a machine with no network: only local peers exist
  return ip + ":" + port;
}

std::string HttpAdvertiseAddress(const config::Config& config) {
  const config::HostPort& http = config.http_listen;
  if (http.host == "off" || http.port == 0) return {};
  if (http.host != "0.0.0.0" && http.host != "::" && !http.host.empty()) return http.ToString();
  // A wildcard bind: peers reach the HTTP port on the host they already dial for the cluster.
  std::string cluster = ClusterAdvertiseAddress(config);
  return cluster.substr(0, cluster.rfind(':')) + ":" + std::to_string(http.port);
}

}  // namespace meshmq::app
