// EpollReactor and EpollSocket against real loopback TCP connections: the test owns the peer
// socket and runs the io_context on its own thread, so every step is deterministic.
#include "transport/epoll_reactor.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <chrono>
#include <functional>
#include <string>
#include <utility>

namespace meshmq::transport {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Record {
  std::string bytes;
  int resumes = 0;
  int closed = 0;
  std::function<void()> on_bytes;  // runs after the bytes were recorded
};

// Records what the reactor hands over.
class RecordingSocket final : public EpollSocket {
 public:
  RecordingSocket(EpollReactor& reactor, int fd, Record& record)
      : EpollSocket(reactor, fd), record_(record) {}
  const std::string& RemoteAddress() const override { return address_; }

 private:
  void OnBytes(std::string_view bytes) override {
    record_.bytes.append(bytes);
    if (record_.on_bytes) record_.on_bytes();
  }
  void OnResume() override { ++record_.resumes; }
  void OnClosed() override { ++record_.closed; }

  Record& record_;
  std::string address_ = "test";
};

class EpollReactorTest : public ::testing::Test {
 protected:
  EpollReactorTest() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len), 0);
    EXPECT_EQ(::listen(listen_fd_, 16), 0);
    EXPECT_EQ(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    address_ = addr;
  }
  ~EpollReactorTest() override {
    if (peer_ >= 0) ::close(peer_);
    ::close(listen_fd_);
  }

  // Connects a peer (non-blocking, kept in peer_) and hands the server side to the reactor.
  // Small buffers make the kernel's send buffer fill quickly.
  RecordingSocket* Connect(bool small_buffers = false) { return Connect(record_, small_buffers); }
  RecordingSocket* Connect(Record& record, bool small_buffers = false) {
    peer_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int small = 4096;
    if (small_buffers) ::setsockopt(peer_, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    EXPECT_EQ(::connect(peer_, reinterpret_cast<const sockaddr*>(&address_), sizeof(address_)), 0);
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    EXPECT_GE(fd, 0);
    if (small_buffers) ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    int flags = 1;
    ::ioctl(peer_, FIONBIO, &flags);
    auto* s = new RecordingSocket(reactor_, fd, record);
    reactor_.Add(s);
    return s;
  }

  // Runs the io_context until `done` (or 10 s), reading what the peer receives meanwhile.
  bool RunUntil(const std::function<bool()>& done, Clock::duration limit = 10s) {
    auto deadline = Clock::now() + limit;
    while (!done()) {
      if (Clock::now() > deadline) return false;
      io_.restart();
      io_.run_for(2ms);
      PeerRead();
    }
    return true;
  }
  void RunFor(Clock::duration d) {
    auto until = Clock::now() + d;
    while (Clock::now() < until) {
      io_.restart();
      io_.run_for(2ms);
    }
  }
  // Non-blocking read of what arrived at the peer; notes the end of the stream.
  void PeerRead() {
    if (peer_ < 0 || !read_peer_) return;
    char buf[65536];
    for (;;) {
      ssize_t n = ::recv(peer_, buf, sizeof(buf), 0);
      if (n > 0) {
        received_.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) peer_eof_ = true;
      return;
    }
  }
  void PeerSend(const std::string& bytes) {
    std::size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::send(peer_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n > 0) {
        off += static_cast<size_t>(n);
      } else {
        io_.restart();
        io_.run_for(2ms);  // let the reactor drain the socket
      }
    }
  }
  void PeerClose() {
    ::close(peer_);
    peer_ = -1;
  }

  // Numbered packets: a 4-byte header and a shared payload, so order mistakes show.
  static std::string Packet(int i, std::string* payload) {
    *payload = std::string(4092, static_cast<char>('a' + i % 26));
    return std::string(reinterpret_cast<const char*>(&i), sizeof(i));
  }
  std::string QueuePackets(EpollSocket& s, int count) {
    std::string expected;
    for (int i = 0; i < count; ++i) {
      std::string payload;
      std::string head = Packet(i, &payload);
      expected += head + payload;
      s.SendWithPayload(std::move(head), codec::SharedBytes(std::move(payload)));
    }
    return expected;
  }

  boost::asio::io_context io_;
  EpollReactor reactor_{io_};  // destroyed before io_ (after the last run)
  Record record_;
  int listen_fd_ = -1;
  sockaddr_in address_{};
  int peer_ = -1;
  bool read_peer_ = true;
  std::string received_;
  bool peer_eof_ = false;
};

TEST_F(EpollReactorTest, BytesAndThenThePeersCloseAreBothSeen) {
  Connect();
  // Data and FIN arrive before the reactor looks: one edge announces both.
  PeerSend("hello");
  PeerClose();
  ASSERT_TRUE(RunUntil([&] { return record_.closed == 1; }));
  EXPECT_EQ(record_.bytes, "hello");
  RunFor(10ms);
  EXPECT_EQ(record_.closed, 1);  // reported once
  EXPECT_EQ(reactor_.open_count(), 0u);
  EXPECT_EQ(reactor_.allocated_count(), 0u);  // freed at the end of the turn
}

// More than the 64 KiB shard read buffer in one go: the rest is read on later polls, in order.
TEST_F(EpollReactorTest, BurstLargerThanTheReadBufferArrivesInOrder) {
  Connect();
  std::string sent;
  for (int i = 0; sent.size() < 1024 * 1024; ++i) sent += std::to_string(i) + ",";
  PeerSend(sent);
  ASSERT_TRUE(RunUntil([&] { return record_.bytes.size() == sent.size(); }));
  EXPECT_EQ(record_.bytes, sent);
}

// The kernel's send buffer fills (the peer does not read): the rest waits for EPOLLOUT and goes
// out, every byte in order, once the peer reads again.
TEST_F(EpollReactorTest, ShortWritesResumeOnEpollOutInOrder) {
  read_peer_ = false;
  RecordingSocket* s = Connect(/*small_buffers=*/true);
  std::string expected = QueuePackets(*s, 256);  // 1 MiB
  RunFor(50ms);
  ASSERT_GT(s->QueuedBytes(), 0u);               // blocked on a full buffer
  ASSERT_LT(s->QueuedBytes(), expected.size());  // after a partial write
  read_peer_ = true;
  ASSERT_TRUE(RunUntil([&] { return received_.size() >= expected.size(); }));
  EXPECT_EQ(received_.size(), expected.size());
  EXPECT_TRUE(received_ == expected) << "bytes out of order";
  EXPECT_EQ(s->QueuedBytes(), 0u);
}

TEST_F(EpollReactorTest, PauseReadingHoldsBytesUntilTheTimerEnds) {
  RecordingSocket* s = Connect();
  auto start = Clock::now();
  s->PauseReading(300ms);
  PeerSend("abc");
  RunFor(100ms);
  EXPECT_EQ(record_.bytes, "");
  EXPECT_EQ(record_.resumes, 0);
  ASSERT_TRUE(RunUntil([&] { return record_.bytes == "abc"; }));
  EXPECT_GE(Clock::now() - start, 300ms);
  EXPECT_EQ(record_.resumes, 1);
  PeerSend("def");  // reading goes on normally after the pause
  ASSERT_TRUE(RunUntil([&] { return record_.bytes == "abcdef"; }));
}

// Close() writes what is queued, then sends FIN; the socket lingers until the peer closes.
TEST_F(EpollReactorTest, CloseFlushesTheQueueBeforeTheFin) {
  read_peer_ = false;
  RecordingSocket* s = Connect(/*small_buffers=*/true);
  std::string expected = QueuePackets(*s, 256);  // 1 MiB
  s->Close();
  s->Send("dropped");  // nothing is queued after Close
  RunFor(20ms);
  EXPECT_EQ(record_.closed, 0);
  read_peer_ = true;
  ASSERT_TRUE(RunUntil([&] { return peer_eof_; }));
  EXPECT_TRUE(received_ == expected);
  EXPECT_EQ(record_.closed, 0);  // lingering: reads and discards until the peer closes
  PeerSend("ignored");
  PeerClose();
  ASSERT_TRUE(RunUntil([&] { return record_.closed == 1; }));
  EXPECT_EQ(record_.bytes, "");
  EXPECT_EQ(reactor_.allocated_count(), 0u);
}

// A peer that half-closes (shutdown(SHUT_WR)) while our last packets wait for room still gets
// all of them, and the close completes as soon as they are out (no linger timeout).
TEST_F(EpollReactorTest, PeerHalfCloseDoesNotCutTheFlushShort) {
  read_peer_ = false;
  RecordingSocket* s = Connect(/*small_buffers=*/true);
  std::string expected = QueuePackets(*s, 256);
  RunFor(20ms);
  ASSERT_GT(s->QueuedBytes(), 0u);
  s->Close();
  ::shutdown(peer_, SHUT_WR);
  RunFor(50ms);
  EXPECT_EQ(record_.closed, 0);
  read_peer_ = true;
  auto start = Clock::now();
  ASSERT_TRUE(RunUntil([&] { return peer_eof_ && record_.closed == 1; }));
  EXPECT_LT(Clock::now() - start, EpollSocket::kLingerTimeout);
  EXPECT_TRUE(received_ == expected);
}

TEST_F(EpollReactorTest, LingerEndsAfterTheTimeoutWhenThePeerStaysOpen) {
  RecordingSocket* s = Connect();
  auto start = Clock::now();
  s->Close();
  ASSERT_TRUE(RunUntil([&] { return record_.closed == 1; }, 5s));
  EXPECT_GE(Clock::now() - start, EpollSocket::kLingerTimeout);
  EXPECT_TRUE(peer_eof_);
}

TEST_F(EpollReactorTest, AbortDropsTheQueueAndClosesAtOnce) {
  read_peer_ = false;
  RecordingSocket* s = Connect(/*small_buffers=*/true);
  std::string expected = QueuePackets(*s, 256);
  RunFor(20ms);
  s->Abort();
  EXPECT_EQ(s->QueuedBytes(), 0u);
  EXPECT_EQ(record_.closed, 0);  // reported at the end of the turn, not inside Abort
  ASSERT_TRUE(RunUntil([&] { return record_.closed == 1; }));
  read_peer_ = true;
  ASSERT_TRUE(RunUntil([&] { return peer_eof_; }));
  EXPECT_LT(received_.size(), expected.size());
}

// Nothing of the reactor keeps the io_context busy once its last socket closed (broker stop).
TEST_F(EpollReactorTest, IoContextRunsOutOfWorkAfterTheLastSocket) {
  RecordingSocket* s = Connect();
  PeerSend("x");
  ASSERT_TRUE(RunUntil([&] { return record_.bytes == "x"; }));
  s->Abort();
  io_.restart();
  auto start = Clock::now();
  io_.run_for(5s);  // returns early only if the io_context ran out of work
  EXPECT_LT(Clock::now() - start, 1s);
  EXPECT_EQ(record_.closed, 1);
  EXPECT_EQ(reactor_.allocated_count(), 0u);
}

// A callback closes another socket whose event is pending in the same epoll batch (a session
// takeover does that): the stale event is ignored, the closed socket reported once and freed
// only after the turn (no use after free; the ASan build checks).
TEST_F(EpollReactorTest, SocketClosedByAnotherInTheSameTurnIsFreedAfterIt) {
  Record a, b;
  RecordingSocket* sa = Connect(a);
  int peer_a = std::exchange(peer_, -1);
  RecordingSocket* sb = Connect(b);
  a.on_bytes = [&] { sb->Abort(); };
  b.on_bytes = [&] { sa->Abort(); };
  ::send(peer_a, "a", 1, MSG_NOSIGNAL);
  PeerSend("b");
  RunFor(10ms);  // both became readable before the first poll
  ASSERT_TRUE(RunUntil([&] { return a.closed + b.closed == 1; }));
  EXPECT_EQ(a.bytes.size() + b.bytes.size(), 1u);  // whichever ran first closed the other
  EXPECT_EQ(reactor_.open_count(), 1u);
  EXPECT_EQ(reactor_.allocated_count(), 1u);
  ::close(peer_a);
  PeerClose();
  ASSERT_TRUE(RunUntil([&] { return a.closed + b.closed == 2; }));
  EXPECT_EQ(a.closed, 1);
  EXPECT_EQ(b.closed, 1);
  EXPECT_EQ(reactor_.allocated_count(), 0u);
}

}  // namespace
}  // namespace meshmq::transport
