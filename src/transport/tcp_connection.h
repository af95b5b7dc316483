// One client connection over plain TCP: reads bytes into its broker::Client and writes what the
// client queues, coalescing queued packets into one gathered write.
//
// Lives on one shard's io_context for its whole life; only that thread touches it.
#pragma once

#include <array>
#include <deque>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "broker/client.h"
#include "broker/client_channel.h"
#include "broker/shard.h"

namespace meshmq::transport {

class TcpConnection : public broker::ClientChannel,
                      public std::enable_shared_from_this<TcpConnection> {
 public:
  TcpConnection(boost::asio::ip::tcp::socket socket, broker::Shard& shard);
  ~TcpConnection() override;

  void Start();

  // broker::ClientChannel
  void Send(std::string bytes) override;
  void SendWithPayload(std::string header, codec::SharedBytes payload) override;
  std::size_t QueuedBytes() const override { return queued_bytes_; }
  void Close() override;
  const std::string& RemoteAddress() const override { return remote_; }

 private:
  struct Chunk {
    std::string head;
    codec::SharedBytes payload;
  };
  void DoRead();
  void DoWrite();
  void CloseSocket();

  boost::asio::ip::tcp::socket socket_;
  broker::Shard& shard_;
  std::unique_ptr<broker::Client> client_;
  std::string remote_;
  std::array<char, 16384> read_buf_;
  std::deque<Chunk> out_;
  std::size_t writing_chunks_ = 0;  // chunks at the front of out_ being written now
  std::size_t queued_bytes_ = 0;
  bool closing_ = false;
  bool closed_ = false;
};

}  // namespace meshmq::transport
