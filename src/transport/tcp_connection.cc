#include "transport/tcp_connection.h"

#include "broker/broker.h"

namespace meshmq::transport {

TcpConnection::TcpConnection(EpollReactor& reactor, broker::Shard& shard, int fd,
                             std::string remote)
    : EpollSocket(reactor, fd),
      remote_(std::move(remote)),
      client_(shard, *this, shard.NextClientId()) {}

void ReleaseAddressSlot(broker::Broker& broker, std::string_view remote) {
  broker::AddressLimiter& limiter = broker.address_limiter();
  if (limiter.enabled()) limiter.Release(remote.substr(0, remote.rfind(':')));
}

TcpConnection::~TcpConnection() { ReleaseAddressSlot(client_.shard().broker(), remote_); }

bool TcpConnection::ShuttingDown() { return client_.shard().broker().stopping(); }

}  // namespace meshmq::transport
