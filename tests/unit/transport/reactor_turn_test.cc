// The epoll reactor serving real MQTT connections of a broker shard: what the publishes read in
// one reactor turn hand to another shard leaves as one task (one wake-up of that shard's thread),
// not one per connection. The broker is polled inline, so every step is deterministic.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "../broker/broker_test_util.h"
#include "transport/epoll_reactor.h"
#include "transport/tcp_connection.h"

namespace meshmq::transport {
namespace {

using broker::testing::TestConn;
using codec::ProtocolVersion;

std::size_t Unread(int fd) {
  int n = 0;
  ::ioctl(fd, FIONREAD, &n);
  return static_cast<std::size_t>(n);
}

// Two publishers on shard 0 over loopback TCP, served by shard 0's reactor.
class ReactorTurnTest : public ::testing::Test {
 protected:
  ReactorTurnTest() {
    int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), len), 0);
    EXPECT_EQ(::listen(listener, 4), 0);
    EXPECT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    for (int i = 0; i < 2; ++i) {
      peers_[i] = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      EXPECT_EQ(::connect(peers_[i], reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
      timeval timeout{5, 0};
      ::setsockopt(peers_[i], SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
      servers_[i] = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      EXPECT_GE(servers_[i], 0);
      reactor_.Add(new TcpConnection(reactor_, broker_.shard(0), servers_[i], "127.0.0.1:1"));
    }
    ::close(listener);
  }
  ~ReactorTurnTest() override {
    for (int fd : peers_) ::close(fd);
    // The connections see the end of their streams and close before the reactor goes.
    for (int round = 0; round < 1000 && reactor_.open_count() > 0; ++round) {
      broker_.io(0).poll();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    broker::testing::Settle(broker_);
  }

  void Send(int i, const codec::Packet& packet) {
    std::string bytes;
    codec::Encode(packet, ProtocolVersion::kV311, bytes);
    ASSERT_EQ(::send(peers_[i], bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  // Runs shard 0 until peer i got `n` bytes back (a CONNACK is 4).
  void AwaitReply(int i, std::size_t n) {
    std::string got;
    for (int round = 0; round < 5000 && got.size() < n; ++round) {
      broker_.io(0).poll();
      char buf[64];
      ssize_t r = ::recv(peers_[i], buf, sizeof(buf), MSG_DONTWAIT);
      if (r > 0) got.append(buf, static_cast<std::size_t>(r));
      if (got.size() < n) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    ASSERT_EQ(got.size(), n);
  }

  broker::Broker broker_{broker::testing::InlineOptions(2)};
  EpollReactor reactor_{broker_.io(0), &broker_.shard(0)};
  int peers_[2] = {-1, -1};
  int servers_[2] = {-1, -1};
};

TEST_F(ReactorTurnTest, PublishesOfOneTurnReachAnotherShardAsOneTask) {
  TestConn sub(broker_, 1, ProtocolVersion::kV311);
  ASSERT_TRUE(broker::testing::Connect(sub, "sub"));
  broker::testing::Subscribe(sub, "turn/+", 0);
  for (int i = 0; i < 2; ++i) {
    Send(i, broker::testing::MakeConnect(ProtocolVersion::kV311, "pub" + std::to_string(i)));
    AwaitReply(i, 4);
  }
  broker::testing::Settle(broker_);

  const uint64_t handoffs_before = broker_.Stats().handoffs;
  Send(0, broker::testing::MakePublish("turn/a", "from 0"));
  Send(1, broker::testing::MakePublish("turn/b", "from 1"));
  // Both reads wait in the epoll set, so one turn of shard 0 handles them.
  for (int round = 0; round < 5000 && (Unread(servers_[0]) == 0 || Unread(servers_[1]) == 0);
       ++round) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  while (broker_.io(0).poll() > 0) {
  }
  EXPECT_EQ(broker_.io(1).poll(), 1u);  // one hand-off task for both publishes
  broker::testing::Settle(broker_);
  std::vector<std::string> got = broker::testing::Payloads(sub.Of<codec::Publish>());
  std::sort(got.begin(), got.end());  // the epoll set's order, whichever came first
  EXPECT_EQ(got, (std::vector<std::string>{"from 0", "from 1"}));
  // Counted per message (meshmq_shard_handoffs_total), though they travelled as one task.
  EXPECT_EQ(broker_.Stats().handoffs - handoffs_before, 2u);
}

}  // namespace
}  // namespace meshmq::transport
