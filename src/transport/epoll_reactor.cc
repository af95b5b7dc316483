#include "transport/epoll_reactor.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <optional>

#include "broker/receive_time.h"
#include "broker/shard.h"
#include "transport/read_buffer.h"

namespace meshmq::transport {

// ---- EpollSocket

EpollSocket::~EpollSocket() {
  if (fd_ >= 0) ::close(fd_);  // only when the reactor is torn down with the socket open
}

void EpollSocket::Enqueue(std::string_view head, codec::SharedBytes payload) {
  if (closing_ || closed_) return;
  queue_.Push(head, std::move(payload));
  if (!blocked_ && !dirty_) reactor_.ScheduleFlush(this);
}

void EpollSocket::OnEvents(uint32_t events) {
  if (dead_) return;  // closed earlier in this turn
  if (blocked_ && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
    blocked_ = false;
    Flush();
    if (dead_) return;
  }
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) hangup_ = true;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    readable_ = true;  // an error or hang-up shows as a failed or empty read
    if (MayRead()) ReadOnce();
  }
}

namespace {

// The SCM_TIMESTAMPNS of a recvmsg in ns since the Unix epoch, 0 when there is none.
int64_t ReceiveStamp(msghdr& msg) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      timespec ts;
      std::memcpy(&ts, CMSG_DATA(c), sizeof(ts));
      return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
    }
  }
  return 0;
}

}  // namespace

void EpollSocket::ReadOnce() {
  boost::asio::mutable_buffer buffer = ShardReadBuffer();
  // recvmsg for the kernel's receive stamp (SO_TIMESTAMPNS, set at accept): the broker orders a
  // SUBSCRIBE against PUBLISHes read on other shards by it (broker/late_routes.cc).
  iovec iov{buffer.data(), buffer.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n = ::recvmsg(fd_, &msg, 0);
  if (n > 0) {
    // A full buffer: more may be waiting, and no new edge will say so. Read again next poll,
    // after the other sockets had their turn.
    if (static_cast<std::size_t>(n) == buffer.size() || hangup_) {
      reactor_.ScheduleReread(this);
    } else {
      readable_ = false;
    }
    if (closing_ || closed_) return;  // after our close, bytes are discarded
    broker::ReceiveTime::Scope stamp(ReceiveStamp(msg));
    OnBytes(std::string_view(static_cast<const char*>(buffer.data()), static_cast<size_t>(n)));
    return;
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    readable_ = false;
    return;
  }
  if (n < 0 && errno == EINTR) {
    reactor_.ScheduleReread(this);
    return;
  }
  // The peer half-closed while our last packets wait for room in the kernel buffer: they still
  // go out (it may be reading), and CloseFlushed reads this end of stream again.
  if (n == 0 && closing_ && !closed_) return;
  // End of stream or an error: the peer is gone (or answered our FIN while lingering).
  readable_ = false;
  CloseSocket();
}

void EpollSocket::Flush() {
  // On the stack (8 KiB): a thread_local would be set up, and touched, in every thread.
  std::array<iovec, 2 * WriteQueue::kMaxChunksPerWrite> iov;
  while (!queue_.empty() && !dead_) {
    const std::vector<boost::asio::const_buffer>& batch = queue_.NextBatch();
    std::size_t count = std::min(batch.size(), iov.size());
    for (std::size_t i = 0; i < count; ++i) {
      iov[i].iov_base = const_cast<void*>(batch[i].data());
      iov[i].iov_len = batch[i].size();
    }
    msghdr msg{};
    msg.msg_iov = iov.data();
    msg.msg_iovlen = count;
    ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);  // no SIGPIPE on a reset connection
    if (n < 0) {
      int err = errno;
      queue_.FinishBatch(0);
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) {
        // Kernel buffer full: the EPOLLOUT edge (registered from the start) resumes the flush.
        blocked_ = true;
        return;
      }
      CloseSocket();
      return;
    }
    // A short write is retried at once: it ends in EAGAIN, which is what guarantees an edge.
    queue_.FinishBatch(static_cast<std::size_t>(n));
  }
  if (closing_ && !dead_ && queue_.empty()) CloseFlushed();
}

void EpollSocket::Close() {
  if (closing_ || closed_) return;
  closing_ = true;
  // Otherwise the flush scheduled by Enqueue (or the EPOLLOUT edge) ends in CloseFlushed.
  if (queue_.empty()) CloseFlushed();
}

void EpollSocket::Abort() {
  CloseSocket();  // drops the queue
}

// FIN, then read and discard until the peer closes (bounded by kLingerTimeout), so a DISCONNECT
// or CONNACK written just before is not destroyed by an RST when the client still has bytes in
// flight. Not while the server stops: nothing may keep the io_context busy then.
void EpollSocket::CloseFlushed() {
  if (closed_) return;
  if (ShuttingDown()) {
    CloseSocket();
    return;
  }
  closed_ = true;
  lingering_ = true;
  paused_ = false;
  ::shutdown(fd_, SHUT_WR);
  boost::asio::steady_timer& timer = Timer();
  timer.expires_after(kLingerTimeout);  // also cancels a pending pause
  EpollReactor::Ref(this);
  timer.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !dead_) CloseSocket();  // the peer did not close in time
    reactor_.Unref(this);
  });
  if (readable_) reactor_.ScheduleReread(this);  // what arrived meanwhile (e.g. while paused)
}

void EpollSocket::PauseReading(std::chrono::steady_clock::duration wait) {
  if (closed_) return;
  paused_ = true;
  boost::asio::steady_timer& timer = Timer();
  timer.expires_after(wait);
  EpollReactor::Ref(this);
  timer.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && paused_ && !closed_) {
      paused_ = false;
      OnResume();
      // Bytes that arrived during the pause gave their edge already: read them now.
      if (!closing_ && MayRead()) ReadOnce();
    }
    reactor_.Unref(this);
  });
}

void EpollSocket::CloseSocket() {
  if (dead_) return;
  dead_ = true;
  closed_ = true;
  lingering_ = false;
  paused_ = false;
  blocked_ = false;
  readable_ = false;
  if (timer_) timer_->cancel();
  queue_.Clear();
  // Explicitly out of the set: a child process forked meanwhile (popen in tests, a hook) could
  // hold a copy of the descriptor, and epoll would go on reporting it with our freed pointer.
  ::epoll_ctl(reactor_.epoll_fd_, EPOLL_CTL_DEL, fd_, nullptr);
  ::shutdown(fd_, SHUT_RDWR);
  ::close(fd_);
  fd_ = -1;
  reactor_.OnDead(this);
}

boost::asio::steady_timer& EpollSocket::Timer() {
  if (!timer_) timer_ = std::make_unique<boost::asio::steady_timer>(reactor_.io());
  return *timer_;
}

// ---- EpollReactor

EpollReactor::EpollReactor(boost::asio::io_context& io, broker::Shard* shard)
    : io_(io), shard_(shard), epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)), epoll_desc_(io) {
  if (epoll_fd_ < 0) {
    // Out of descriptors at start-up: every Add then fails and closes its socket.
    spdlog::error("epoll_create1 failed: {}", std::strerror(errno));
    return;
  }
  boost::system::error_code ec;
  epoll_desc_.assign(epoll_fd_, ec);
}

EpollReactor::~EpollReactor() {
  // Whatever the turn's end did not free (the io_context stopped first): close and free. Timer
  // handlers still queued in the stopped io_context are destroyed without running.
  for (EpollSocket* s : sockets_) delete s;
}

void EpollReactor::Add(EpollSocket* s) {
  s->index_ = static_cast<uint32_t>(sockets_.size());
  sockets_.push_back(s);
  s->refs_ = 1;  // the reactor's, dropped once the close was reported
  ++open_;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = s;
  if (epoll_fd_ < 0 || ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, s->fd_, &ev) != 0) {
    spdlog::warn("epoll_ctl(ADD) failed: {}", std::strerror(errno));
    s->CloseSocket();
    return;
  }
  Arm();
}

void EpollReactor::Arm() {
  if (waiting_ || poll_posted_ || open_ == 0) return;
  waiting_ = true;
  epoll_desc_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                         [this](const boost::system::error_code& ec) { OnReady(ec); });
}

void EpollReactor::OnReady(const boost::system::error_code& ec) {
  waiting_ = false;
  if (ec) {  // cancelled when the last socket closed; a socket may have been added since
    Arm();
    return;
  }
  Poll();
}

void EpollReactor::Poll() {
  busy_ = true;
  rereading_.swap(reread_);
  int n = ::epoll_wait(epoll_fd_, events_.data(), static_cast<int>(events_.size()), 0);
  {
    // What this turn's publishes hand to another shard leaves as one task (one wake-up of that
    // shard) when the reads are done, before this turn's writes.
    std::optional<broker::Shard::HandoffBatch> handoffs;
    if (shard_ != nullptr) handoffs.emplace(*shard_);
    for (int i = 0; i < n; ++i) {
      static_cast<EpollSocket*>(events_[i].data.ptr)->OnEvents(events_[i].events);
    }
    for (EpollSocket* s : rereading_) {
      s->rereading_ = false;
      if (s->MayRead()) s->ReadOnce();
      Unref(s);
    }
    rereading_.clear();
  }
  RunTail();
  // Maybe more events than fit, or sockets to read again: poll again after the other queued
  // handlers instead of waiting for an edge.
  if (!reread_.empty() || n == static_cast<int>(events_.size())) {
    PostPoll();
  } else {
    Arm();
  }
}

void EpollReactor::PostPoll() {
  if (poll_posted_) return;
  poll_posted_ = true;
  boost::asio::post(io_, [this] {
    poll_posted_ = false;
    Poll();
  });
}

void EpollReactor::RunTail() {
  busy_ = true;
  while (!flush_.empty() || !dead_.empty()) {
    flushing_.swap(flush_);
    for (EpollSocket* s : flushing_) {
      s->dirty_ = false;
      if (!s->dead_ && !s->blocked_) s->Flush();
      Unref(s);
    }
    flushing_.clear();
    reaping_.swap(dead_);
    for (EpollSocket* s : reaping_) {
      s->OnClosed();
      Unref(s);  // the reactor's own reference
    }
    reaping_.clear();
  }
  busy_ = false;
  if (!reread_.empty()) PostPoll();  // e.g. a close that began lingering with bytes waiting
}

void EpollReactor::PostTail() {
  if (busy_ || tail_posted_) return;
  tail_posted_ = true;
  boost::asio::post(io_, [this] {
    tail_posted_ = false;
    RunTail();
  });
}

void EpollReactor::ScheduleFlush(EpollSocket* s) {
  s->dirty_ = true;
  Ref(s);
  flush_.push_back(s);
  PostTail();
}

void EpollReactor::ScheduleReread(EpollSocket* s) {
  if (s->rereading_) return;
  s->rereading_ = true;
  Ref(s);
  reread_.push_back(s);
  if (!busy_) PostPoll();  // outside a poll, nothing else would look at the list soon
}

void EpollReactor::OnDead(EpollSocket* s) {
  dead_.push_back(s);
  PostTail();
  if (--open_ == 0 && waiting_) {
    boost::system::error_code ec;
    epoll_desc_.cancel(ec);  // lets the io_context run out of work
  }
}

void EpollReactor::Unref(EpollSocket* s) {
  if (--s->refs_ != 0) return;
  EpollSocket* last = sockets_.back();
  sockets_[s->index_] = last;
  last->index_ = s->index_;
  sockets_.pop_back();
  delete s;
}

}  // namespace meshmq::transport
