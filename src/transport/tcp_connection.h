// One plain-TCP MQTT connection on the shard's EpollReactor: the socket and its broker::Client
// in one allocation (no shared_ptr control block, no separate Client, no Asio socket state).
//
// Lives on one shard; only that thread touches it. Owned by the reactor (see epoll_reactor.h).
#pragma once

#include <string>
#include <string_view>

#include "broker/client.h"
#include "broker/shard.h"
#include "transport/epoll_reactor.h"

namespace meshmq::transport {

// Gives back the --max-connections-per-address slot taken for peer `remote` ("ip:port"), when
// the limit is on.
void ReleaseAddressSlot(broker::Broker& broker, std::string_view remote);

class TcpConnection final : public EpollSocket {
 public:
  // `fd`: an accepted, non-blocking socket; `remote`: "ip:port" (DescribeRemote's format). When
  // --max-connections-per-address is on, the caller took the address's slot: it is given back
  // when the connection is freed.
  TcpConnection(EpollReactor& reactor, broker::Shard& shard, int fd, std::string remote);
  ~TcpConnection() override;

  // Kept formatted rather than packed: the broker hands out views of it (auth::ClientInfo
  // carries the peer IP as a string_view), and "127.0.0.1:54321" fits the string's inline
  // buffer, so it costs no allocation.
  const std::string& RemoteAddress() const override { return remote_; }

 private:
  void OnBytes(std::string_view bytes) override { client_.OnBytes(bytes); }
  void OnResume() override { client_.OnBytes({}); }
  void OnClosed() override { client_.OnTransportClosed(); }
  bool ShuttingDown() override;

  std::string remote_;
  // Last: destroyed first, while the socket part (its queue) still exists.
  broker::Client client_;
};

}  // namespace meshmq::transport
