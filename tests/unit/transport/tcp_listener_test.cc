// The plain-TCP listener on the epoll reactor, in process: MQTT clients are served, and stopping
// the broker closes every descriptor it opened (connections in every state, the epoll sets).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "transport/listener.h"
#include "transport_test_support.h"

namespace meshmq::transport {
namespace {

using testing::BrokerWithListeners;

std::size_t OpenDescriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++n;
  }
  return n;
}

int ConnectTo(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  return fd;
}

// MQTT 3.1.1 CONNECT with a two-character client id, keep alive 60 s.
std::string Connect(int i) {
  std::string id = {static_cast<char>('a' + i / 26), static_cast<char>('a' + i % 26)};
  return std::string("\x10\x0e\x00\x04MQTT\x04\x02\x00\x3c\x00\x02", 14) + id;
}

std::string ReadSome(int fd, std::size_t n) {
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::recv(fd, out.data() + got, n - got, 0);
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  out.resize(got);
  return out;
}

TEST(TcpListenerTest, ServesClientsAndStopClosesEveryDescriptor) {
  std::size_t before = OpenDescriptors();
  std::vector<int> clients;
  {
    BrokerWithListeners node;
    Listener* l = node.Add(ListenerConfig{});
    ASSERT_NE(l, nullptr);
    for (int i = 0; i < 20; ++i) {
      int fd = ConnectTo(l->port());
      ASSERT_EQ(::send(fd, Connect(i).data(), Connect(i).size(), MSG_NOSIGNAL),
                static_cast<ssize_t>(Connect(i).size()));
      EXPECT_EQ(ReadSome(fd, 4), std::string("\x20\x02\x00\x00", 4)) << "client " << i;
      clients.push_back(fd);
    }
    clients.push_back(ConnectTo(l->port()));  // connected, no CONNECT yet
    int half = ConnectTo(l->port());          // sent half a CONNECT, then its FIN
    ::send(half, Connect(99).data(), 5, MSG_NOSIGNAL);
    ::shutdown(half, SHUT_WR);
    clients.push_back(half);
    // All 22 accepted; the half-closed one was read to its end and closed by the broker (had the
    // stop come first, its unread bytes would have made the close an RST, as the kernel does).
    auto stats_reached = [&] {
      auto stats = node.broker().Stats();
      return stats.connections_total >= 22 && stats.connections_current == 21;
    };
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!stats_reached() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_TRUE(stats_reached());
  }  // Broker::Stop, then the listener (and its epoll sets) go away
  // Every client sees its connection end: the broker closed its side.
  for (int fd : clients) {
    char c;
    ssize_t r;
    while ((r = ::recv(fd, &c, 1, 0)) > 0) {
    }
    EXPECT_EQ(r, 0) << "connection still open after the broker stopped";
    ::close(fd);
  }
  EXPECT_EQ(OpenDescriptors(), before);
}

}  // namespace
}  // namespace meshmq::transport
