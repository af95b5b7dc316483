// A real dnsmasq on 127.0.0.1:<free port> for discovery tests: no system config, no
// resolv.conf, no DHCP, authoritative for *.test (unknown names get NXDOMAIN, not REFUSED).
// Used from the test's main thread only.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace meshmq::discovery::testing {

inline constexpr char kDnsmasq[] = "/usr/sbin/dnsmasq";

class DnsmasqServer {
 public:
  DnsmasqServer() {
    char tmpl[] = "/tmp/meshmq-dnsmasq-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  ~DnsmasqServer() {
    Kill();
    std::remove(HostsPath().c_str());
    std::remove((HostsPath() + ".tmp").c_str());
    std::remove(LogPath().c_str());
    rmdir(dir_.c_str());
  }

  // `srv` entries are dnsmasq --srv-host values: "_svc._tcp.domain,target,port".
  void SetSrv(std::vector<std::string> srv) { srv_ = std::move(srv); }

  // Rewrites the hosts file ("address name" lines) and, if running, makes dnsmasq reload it.
  void SetHosts(const std::string& content) {
    const std::string tmp = HostsPath() + ".tmp";
    std::ofstream(tmp) << content;
    std::rename(tmp.c_str(), HostsPath().c_str());  // atomic: dnsmasq never reads half a file
    if (pid_ > 0) kill(pid_, SIGHUP);
  }

  // Starts on a fresh free port, or on the previous port when restarting. True when listening.
  bool Start() {
    for (int attempt = 0; attempt < 5; ++attempt) {
      if (port_ == 0 || attempt > 0) port_ = FreePort();
      if (port_ != 0 && Spawn() && WaitListening()) return true;
      Kill();
    }
    return false;
  }

  void Kill() {
    if (pid_ <= 0) return;
    Resume();
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }
  void Pause() { if (pid_ > 0) kill(pid_, SIGSTOP); }   // queries now time out
  void Resume() { if (pid_ > 0) kill(pid_, SIGCONT); }

  int port() const { return port_; }
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string Log() const {
    std::ifstream in(LogPath());
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::vector<std::string> CommandLine() const {
    std::vector<std::string> args = {
        kDnsmasq, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
        "--port=" + std::to_string(port_), "--listen-address=127.0.0.1", "--bind-interfaces",
        "--local=/test/", "--addn-hosts=" + HostsPath(), "--pid-file=", "--user=root",
        "--group=root", "--log-facility=-", "--log-queries"};
    for (const auto& s : srv_) args.push_back("--srv-host=" + s);
    return args;
  }

 private:
  std::string HostsPath() const { return dir_ + "/hosts"; }
  std::string LogPath() const { return dir_ + "/dnsmasq.log"; }

  // Port 0 on UDP gives a free port; it must be free on TCP too (dnsmasq binds both).
  static int FreePort() {
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    int port = 0;
    if (bind(u, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
        getsockname(u, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port = ntohs(a.sin_port);
      int t = socket(AF_INET, SOCK_STREAM, 0);
      if (bind(t, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) port = 0;
      close(t);
    }
    close(u);
    return port;
  }

  static bool UdpPortBusy(int port) {
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    const bool busy = bind(u, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0;
    close(u);
    return busy;
  }

  bool Spawn() {
    std::vector<std::string> args = CommandLine();
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      int log = open(LogPath().c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(log, 1);
      dup2(log, 2);
      execv(kDnsmasq, argv.data());
      _exit(127);
    }
    return pid_ > 0;
  }

  // dnsmasq binds its sockets before loading the hosts file, but answers nothing until its main
  // loop runs, which is after the load; so "port bound" means queries get correct answers.
  bool WaitListening() {
    for (int i = 0; i < 200; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = 0;
        return false;  // exited, e.g. the port was taken meanwhile
      }
      if (UdpPortBusy(port_)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  std::string dir_;
  std::vector<std::string> srv_;
  int port_ = 0;
  pid_t pid_ = 0;
};

}  // namespace meshmq::discovery::testing
