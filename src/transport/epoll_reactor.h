// Plain-TCP sockets without Asio per-socket state: one epoll set per shard (per TCP listener)
// whose own descriptor is the only thing registered with the shard's io_context. An idle
// connection then costs its entry in the kernel's epoll set (kernel memory, not RSS) and its
// EpollSocket, instead of an Asio descriptor_state (~172 B) plus a pending readiness wait
// (~124 B) and a shared_ptr control block.
//
// Edge-triggered (EPOLLET), each socket registered once for EPOLLIN | EPOLLOUT | EPOLLRDHUP and
// never modified: a socket blocked on a full send buffer needs no epoll_ctl to wait for
// EPOLLOUT, and one paused by back-pressure needs none to stop reading (level-triggered, both
// would need an EPOLL_CTL_MOD each time, and a paused socket with unread bytes would keep the
// epoll set readable and so wake the shard on every turn). The price of edge triggering is that
// readiness must be remembered: EpollSocket::readable_ says "bytes may be waiting"; a read that
// fills the whole shard buffer, or a pause, leaves it set and the socket is read again later
// (the next poll, or when the pause ends) rather than waiting for an edge that will not come.
//
// Writes are gathered per turn: packets queued while the shard handles a poll or any other task
// are written at the end of it with one sendmsg per socket (up to 256 packets); only when the
// kernel buffer is full does the socket wait for its EPOLLOUT edge.
//
// Lifetime: the reactor owns its sockets (created with new, handed over by Add). A closed socket
// is reported to its owner (OnClosed) and freed at the end of the turn, never inside one of its
// own calls, so a handler that closes another connection (a session takeover) leaves no dangling
// pointer behind, even in the epoll events of the same batch. Pending timer and list entries
// hold a count (refs_) that keeps the object until they ran.
//
// Threads: everything runs on the io_context's single thread. The reactor must be destroyed
// after that thread stopped running the io_context (it then closes and frees what is left).
#pragma once

#include <sys/epoll.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "broker/client_channel.h"
#include "transport/write_queue.h"

namespace meshmq::broker {
class Shard;
}  // namespace meshmq::broker

namespace meshmq::transport {

class EpollReactor;

// One connected, non-blocking stream socket served by an EpollReactor. Implements the broker's
// ClientChannel: queue (gathered, non-blocking writes), Close after flush with a FIN-linger,
// Abort, PauseReading. Subclasses get the bytes and the end of the connection.
class EpollSocket : public broker::ClientChannel {
 public:
  // How long a closed connection reads and discards after our FIN, waiting for the peer's.
  static constexpr std::chrono::seconds kLingerTimeout{2};

  EpollSocket(const EpollSocket&) = delete;
  EpollSocket& operator=(const EpollSocket&) = delete;

  // broker::ClientChannel
  void Send(std::string_view bytes) override { Enqueue(bytes, {}); }
  void SendWithPayload(std::string_view header, codec::SharedBytes payload) override {
    Enqueue(header, std::move(payload));
  }
  std::size_t QueuedBytes() const override { return queue_.queued_bytes(); }
  void Close() override;
  void PauseReading(std::chrono::steady_clock::duration wait) override;
  void Abort() override;

  // The descriptor, or -1 once closed.
  int fd() const { return fd_; }

 protected:
  // Takes ownership of `fd` (a connected socket, already non-blocking).
  EpollSocket(EpollReactor& reactor, int fd) : reactor_(reactor), fd_(fd) {}
  ~EpollSocket() override;

  // Bytes received; valid only during the call (the shard's read buffer).
  virtual void OnBytes(std::string_view bytes) = 0;
  // A PauseReading ended: consume what was held back. Reading resumes afterwards unless this
  // paused again or closed.
  virtual void OnResume() = 0;
  // The connection is gone (peer closed, error, Abort, or our close finished). Called once, at
  // the end of a reactor turn, never from inside one of this socket's own calls.
  virtual void OnClosed() = 0;
  // True when the server is stopping: Close() then closes at once after the flush, without the
  // linger, so nothing keeps the io_context busy.
  virtual bool ShuttingDown() { return false; }

 private:
  friend class EpollReactor;

  void Enqueue(std::string_view head, codec::SharedBytes payload);
  void OnEvents(uint32_t events);
  // One read into the shard buffer (see read_buffer.h).
  void ReadOnce();
  bool MayRead() const { return readable_ && !dead_ && (!paused_ || lingering_); }
  // Writes the queue until it is empty or the kernel buffer is full (then waits for EPOLLOUT).
  void Flush();
  void CloseFlushed();
  // Closes the descriptor at once, dropping what is queued; the reactor reports it and frees
  // the object at the end of the turn.
  void CloseSocket();
  boost::asio::steady_timer& Timer();

  EpollReactor& reactor_;
  WriteQueue queue_;
  // Back-pressure pause, then the linger after our FIN (they never overlap: a close ends the
  // pause). Created on first use, so an established idle connection carries none.
  std::unique_ptr<boost::asio::steady_timer> timer_;
  int fd_;
  uint32_t index_ = 0;        // position in EpollReactor::sockets_
  uint16_t refs_ = 0;         // the reactor's own (until reported closed), lists and pending timers
  bool closing_ : 1 = false;  // Close() was called: flush, then close
  bool closed_ : 1 = false;   // FIN sent or descriptor closed: nothing more is written
  bool lingering_ : 1 = false;  // FIN sent; reading and discarding until the peer closes
  bool dead_ : 1 = false;       // descriptor closed; reported and freed at the end of the turn
  bool paused_ : 1 = false;     // PauseReading: no read until the timer fires
  bool readable_ : 1 = false;   // edge seen and not yet read to EAGAIN (bytes may be waiting)
  // The peer's FIN (or an error) was reported: a short read no longer means "drained", the end
  // of the stream still has to be read, and no further edge will announce it.
  bool hangup_ : 1 = false;
  bool blocked_ : 1 = false;    // the kernel's send buffer was full: waiting for EPOLLOUT
  bool dirty_ : 1 = false;      // in the reactor's flush list
  bool rereading_ : 1 = false;  // in the reactor's list of sockets to read again
};

class EpollReactor {
 public:
  // `shard` (optional): the broker shard the io_context runs; the publishes of one turn then
  // hand off to other shards as one task per shard (broker::Shard::HandoffBatch).
  explicit EpollReactor(boost::asio::io_context& io, broker::Shard* shard = nullptr);
  // Closes and frees every socket left. Only after the io_context stopped running.
  ~EpollReactor();
  EpollReactor(const EpollReactor&) = delete;
  EpollReactor& operator=(const EpollReactor&) = delete;

  boost::asio::io_context& io() { return io_; }
  // Starts serving `socket` (made with new): the reactor owns it from now on. Shard thread.
  void Add(EpollSocket* socket);
  // Sockets whose descriptor is open.
  std::size_t open_count() const { return open_; }
  // Sockets still allocated (closed ones are freed at the end of the turn).
  std::size_t allocated_count() const { return sockets_.size(); }

 private:
  friend class EpollSocket;

  // The epoll descriptor's wait with the io_context: pending while a socket is open, so the
  // io_context can run out of work (broker stop) once the last one closed.
  void Arm();
  void OnReady(const boost::system::error_code& ec);
  // Handles what the epoll set reports now (without blocking), then the sockets to read again,
  // then the turn's writes and closes.
  void Poll();
  void PostPoll();
  // End of a turn: writes what was queued, reports and frees closed sockets (and again, for
  // what those reports queued or closed).
  void RunTail();
  void PostTail();
  void ScheduleFlush(EpollSocket* s);
  void ScheduleReread(EpollSocket* s);
  void OnDead(EpollSocket* s);
  static void Ref(EpollSocket* s) { ++s->refs_; }
  void Unref(EpollSocket* s);

  boost::asio::io_context& io_;
  broker::Shard* shard_;
  int epoll_fd_;
  boost::asio::posix::stream_descriptor epoll_desc_;  // owns epoll_fd_
  std::vector<EpollSocket*> sockets_;  // every allocated socket (for the final cleanup)
  std::size_t open_ = 0;
  std::vector<EpollSocket*> flush_, flushing_;    // sockets with packets queued this turn
  std::vector<EpollSocket*> reread_, rereading_;  // sockets that may hold more unread bytes
  std::vector<EpollSocket*> dead_, reaping_;      // closed, to report and free
  bool waiting_ = false;                          // an async_wait on epoll_desc_ is pending
  bool poll_posted_ = false;                      // a Poll is posted
  bool tail_posted_ = false;                      // a RunTail is posted
  bool busy_ = false;  // inside Poll or RunTail: the tail runs before returning
  static constexpr std::size_t kMaxEvents = 256;
  std::array<epoll_event, kMaxEvents> events_;
};

}  // namespace meshmq::transport
