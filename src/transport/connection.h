// One client connection over an Asio stream transport (TLS, WebSocket, WebSocket over TLS; plain
// TCP has its own epoll path, tcp_connection.h): runs the transport's handshake under a deadline,
// then feeds received bytes to its broker::Client and writes what the client queues, coalescing
// queued packets into one gathered write (see WriteQueue).
//
// `Transport` wraps one stream and provides (all completion handlers run on the shard thread):
//   boost::asio::ip::tcp::socket& socket();                   the TCP socket underneath
//   void AsyncHandshake(H h);                                 h(error_code)
//   void AsyncReadSome(boost::asio::mutable_buffer b, H h);   h(error_code, size_t)
//   void AsyncWrite(const std::vector<const_buffer>& b, H h); h(error_code, size_t)
//   void AsyncClose(H h);   polite close (e.g. a WebSocket close frame), then h()
//   static constexpr const char* kName;                       for logs
//
// Lives on one shard's io_context for its whole life; only that thread touches it. Pending
// operations hold a shared_ptr to it, so it is destroyed after its last handler ran.
#pragma once

#include <spdlog/spdlog.h>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "broker/broker.h"
#include "broker/client.h"
#include "broker/client_channel.h"
#include "broker/lazy_timer.h"
#include "broker/shard.h"
#include "transport/read_buffer.h"
#include "transport/write_queue.h"

namespace meshmq::transport {

std::string DescribeRemote(const boost::asio::ip::tcp::socket& socket);

template <typename Transport>
class Connection final : public broker::ClientChannel,
                         public std::enable_shared_from_this<Connection<Transport>> {
 public:
  // `args` are passed to the Transport after the socket.
  template <typename... Args>
  Connection(broker::Shard& shard, std::chrono::milliseconds handshake_timeout,
             boost::asio::ip::tcp::socket socket, Args&&... args)
      : shard_(shard),
        remote_(DescribeRemote(socket)),
        transport_(std::move(socket), std::forward<Args>(args)...),
        handshake_timeout_(handshake_timeout),
        timer_(shard.io()) {
    boost::system::error_code ec;
    transport_.socket().set_option(boost::asio::ip::tcp::no_delay(true), ec);
  }

  // Runs the handshake; the broker::Client exists only once it succeeded, so a failed or slow
  // handshake never counts as an MQTT connection.
  void Start();

  // broker::ClientChannel
  void Send(std::string_view bytes) override { Enqueue(bytes, {}); }
  void SendWithPayload(std::string_view header, codec::SharedBytes payload) override {
    Enqueue(header, std::move(payload));
  }
  std::size_t QueuedBytes() const override { return queue_.queued_bytes(); }
  void Close() override;
  const std::string& RemoteAddress() const override { return remote_; }
  void PauseReading(std::chrono::steady_clock::duration wait) override;
  void Abort() override { CloseSocket(); }  // a pending write fails and drops the queue

 private:
  void OnHandshake(const boost::system::error_code& ec);
  void Enqueue(std::string_view head, codec::SharedBytes payload);
  void DoRead();
  void OnRead(const boost::system::error_code& ec, std::string_view bytes);
  void DoWrite();
  void OnWritten(const boost::system::error_code& ec, std::size_t n);
  // Closes after the queue was flushed: politely (transport close handshake) unless the broker
  // is stopping, when nothing may keep the shard's io_context busy.
  void CloseFlushed();
  void CloseSocket();

  broker::Shard& shard_;
  std::string remote_;
  Transport transport_;
  std::unique_ptr<broker::Client> client_;
  // The transport decrypts or unframes into it (see read_buffer.h); allocated after the handshake.
  std::unique_ptr<char[]> stream_buf_;
  WriteQueue queue_;
  std::chrono::milliseconds handshake_timeout_;
  // Bounds the handshake; freed afterwards, so an established connection carries none.
  broker::LazyTimer timer_;
  bool closing_ = false;  // Close() was called: flush, then close
  bool reading_ = false;  // an async read is pending
  bool closed_ = false;   // the socket is closed or closing politely; nothing more is written
  // Back-pressure from the client (PauseReading): no read starts until resume_timer_ fires.
  bool read_paused_ = false;
  broker::LazyTimer resume_timer_{shard_.io()};  // allocated on the first pause only
};

template <typename Transport>
void Connection<Transport>::Start() {
  timer_.expires_after(handshake_timeout_);
  timer_.async_wait([self = this->shared_from_this()](boost::system::error_code ec) {
    if (ec || self->client_) return;
    spdlog::debug("{} {}: handshake timed out", Transport::kName, self->remote_);
    self->CloseSocket();  // fails the pending handshake operation
  });
  transport_.AsyncHandshake(
      [self = this->shared_from_this()](boost::system::error_code ec) { self->OnHandshake(ec); });
}

template <typename Transport>
void Connection<Transport>::OnHandshake(const boost::system::error_code& ec) {
  timer_.reset();  // cancels the handshake deadline
  if (ec || closed_) {
    spdlog::debug("{} {}: handshake failed: {}", Transport::kName, remote_,
                  ec ? ec.message() : "timed out");
    CloseSocket();
    return;
  }
  client_ = std::make_unique<broker::Client>(shard_, *this, shard_.NextClientId());
  DoRead();
}

template <typename Transport>
void Connection<Transport>::DoRead() {
  reading_ = true;
  // Not make_unique: that would zero (and so touch) every page of the buffer.
  if (!stream_buf_) stream_buf_.reset(new char[kStreamReadBufferSize]);
  transport_.AsyncReadSome(
      boost::asio::buffer(stream_buf_.get(), kStreamReadBufferSize),
      [self = this->shared_from_this()](boost::system::error_code ec, std::size_t n) {
        self->reading_ = false;
        self->OnRead(ec, std::string_view(self->stream_buf_.get(), n));
      });
}

template <typename Transport>
void Connection<Transport>::OnRead(const boost::system::error_code& ec, std::string_view bytes) {
  if (ec) {
    client_->OnTransportClosed();
    CloseSocket();
    return;
  }
  client_->OnBytes(bytes);
  if (client_->state() == broker::Client::State::kClosed) return;
  if (!read_paused_) DoRead();
}

// Back-pressure hook: the next read starts only after `wait`, once the client has decoded what it
// already holds (OnBytes with no bytes), and only if that did not ask for another pause.
template <typename Transport>
void Connection<Transport>::PauseReading(std::chrono::steady_clock::duration wait) {
  read_paused_ = true;
  resume_timer_.expires_after(wait);
  resume_timer_.async_wait([self = this->shared_from_this()](boost::system::error_code ec) {
    if (ec || !self->read_paused_) return;
    self->read_paused_ = false;
    if (self->closed_ || !self->client_) return;
    self->client_->OnBytes({});
    if (self->client_->state() == broker::Client::State::kClosed) return;
    if (!self->read_paused_ && !self->reading_) self->DoRead();
  });
}

template <typename Transport>
void Connection<Transport>::Enqueue(std::string_view head, codec::SharedBytes payload) {
  if (closing_ || closed_) return;
  queue_.Push(head, std::move(payload));
  if (!queue_.writing()) DoWrite();
}

template <typename Transport>
void Connection<Transport>::DoWrite() {
  if (queue_.empty() || closed_) return;
  transport_.AsyncWrite(queue_.NextBatch(), [self = this->shared_from_this()](
                                                boost::system::error_code ec, std::size_t n) {
    self->OnWritten(ec, n);
  });
}

template <typename Transport>
void Connection<Transport>::OnWritten(const boost::system::error_code& ec, std::size_t n) {
  queue_.FinishBatch(n);
  if (ec) {
    queue_.Clear();
    CloseSocket();
    return;
  }
  if (!queue_.empty()) {
    DoWrite();
  } else if (closing_) {
    CloseFlushed();
  }
}

template <typename Transport>
void Connection<Transport>::Close() {
  if (closing_ || closed_) return;
  closing_ = true;
  if (!queue_.writing() && queue_.empty()) CloseFlushed();
}

template <typename Transport>
void Connection<Transport>::CloseFlushed() {
  if (closed_) return;
  if (shard_.broker().stopping()) {
    CloseSocket();
    return;
  }
  closed_ = true;
  transport_.AsyncClose([self = this->shared_from_this()] {
    boost::system::error_code ec;
    self->transport_.socket().close(ec);
  });
}

template <typename Transport>
void Connection<Transport>::CloseSocket() {
  // Also after a polite close started: an error or timeout ends it at once.
  closed_ = true;
  timer_.cancel();
  resume_timer_.cancel();
  boost::system::error_code ec;
  transport_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  transport_.socket().close(ec);
}

}  // namespace meshmq::transport
