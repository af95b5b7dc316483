#include "transport/tcp_connection.h"

#include <vector>

#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

namespace meshmq::transport {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
constexpr std::size_t kMaxChunksPerWrite = 256;
}

TcpConnection::TcpConnection(tcp::socket socket, broker::Shard& shard)
    : socket_(std::move(socket)), shard_(shard) {
  boost::system::error_code ec;
  auto endpoint = socket_.remote_endpoint(ec);
  remote_ = ec ? "unknown" : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  socket_.set_option(tcp::no_delay(true), ec);
}

TcpConnection::~TcpConnection() = default;

void TcpConnection::Start() {
  client_ = std::make_unique<broker::Client>(shard_, *this, shard_.NextClientId());
  DoRead();
}

void TcpConnection::DoRead() {
  socket_.async_read_some(
      asio::buffer(read_buf_),
      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
        if (ec) {
          self->client_->OnTransportClosed();
          self->CloseSocket();
          return;
        }
        self->client_->OnBytes(std::string_view(self->read_buf_.data(), n));
        if (self->client_->state() == broker::Client::State::kClosed) return;
        self->DoRead();
      });
}

void TcpConnection::Send(std::string bytes) {
  if (closing_ || closed_) return;
  queued_bytes_ += bytes.size();
  out_.push_back(Chunk{std::move(bytes), {}});
  if (writing_chunks_ == 0) DoWrite();
}

void TcpConnection::SendWithPayload(std::string header, codec::SharedBytes payload) {
  if (closing_ || closed_) return;
  queued_bytes_ += header.size() + payload.size();
  out_.push_back(Chunk{std::move(header), std::move(payload)});
  if (writing_chunks_ == 0) DoWrite();
}

void TcpConnection::DoWrite() {
  if (out_.empty() || closed_) return;
  std::vector<asio::const_buffer> buffers;
  std::size_t count = std::min(out_.size(), kMaxChunksPerWrite);
  buffers.reserve(count * 2);
  for (std::size_t i = 0; i < count; ++i) {
    buffers.emplace_back(asio::buffer(out_[i].head));
    if (!out_[i].payload.empty()) buffers.emplace_back(out_[i].payload.data(), out_[i].payload.size());
  }
  writing_chunks_ = count;
  asio::async_write(socket_, buffers,
                    [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                      self->queued_bytes_ -= n;
                      for (std::size_t i = 0; i < self->writing_chunks_; ++i) self->out_.pop_front();
                      self->writing_chunks_ = 0;
                      if (ec) {
                        self->out_.clear();
                        self->queued_bytes_ = 0;
                        self->CloseSocket();
                        return;
                      }
                      if (!self->out_.empty()) {
                        self->DoWrite();
                      } else if (self->closing_) {
                        self->CloseSocket();
                      }
                    });
}

void TcpConnection::Close() {
  if (closing_ || closed_) return;
  closing_ = true;
  if (writing_chunks_ == 0 && out_.empty()) CloseSocket();
}

void TcpConnection::CloseSocket() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

}  // namespace meshmq::transport
