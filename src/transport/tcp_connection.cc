#include "transport/tcp_connection.h"

#include "broker/broker.h"

namespace meshmq::transport {

TcpConnection::TcpConnection(EpollReactor& reactor, broker::Shard& shard, int fd,
                             std::string remote)
    : EpollSocket(reactor, fd), remote_(std::move(remote)), client_(shard, *this, shard.NextClientId()) {}

TcpConnection::~TcpConnection() {
  broker::AddressLimiter& limiter = client_.shard().broker().address_limiter();
  if (limiter.enabled()) limiter.Release(std::string_view(remote_).substr(0, remote_.rfind(':')));
}

bool TcpConnection::ShuttingDown() { return client_.shard().broker().stopping(); }

}  // namespace meshmq::transport
