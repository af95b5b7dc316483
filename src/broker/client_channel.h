// The broker's view of one network connection. Implemented by src/transport (TCP, TLS,
// WebSocket) and by test fakes; called only on the connection's shard thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "codec/shared_bytes.h"

namespace meshmq::broker {

class ClientChannel {
 public:
  virtual ~ClientChannel() = default;
  // Queues one encoded packet (copied: the caller may reuse its buffer at once).
  virtual void Send(std::string_view bytes) = 0;
  // Queues an encoded PUBLISH header (copied) followed by a payload shared with other
  // subscribers.
  virtual void SendWithPayload(std::string_view header, codec::SharedBytes payload) = 0;
  // Bytes queued and not yet written to the socket (slow-consumer policy).
  virtual std::size_t QueuedBytes() const = 0;
  // Writes what is queued, then closes. The transport then calls Client::OnTransportClosed().
  virtual void Close() = 0;
  virtual const std::string& RemoteAddress() const = 0;
  // Back-pressure: read nothing more for `wait`, then call Client::OnBytes({}) (so the client
  // decodes what it already holds) and read again. Transports without it ignore the request.
  virtual void PauseReading(std::chrono::steady_clock::duration wait) { (void)wait; }
  // Closes at once, dropping whatever is queued (a consumer that stopped reading would never let
  // a flush finish). The transport then calls Client::OnTransportClosed().
  virtual void Abort() { Close(); }
  // An in-process client the operator configured (an MQTT bridge): no password or ACL checks.
  virtual bool Trusted() const { return false; }
};

}  // namespace meshmq::broker
