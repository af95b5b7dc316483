// The bridge's side in the local broker: an in-process MQTT 5 client on one shard. It speaks the
// broker's own protocol through a ClientChannel (no socket), so it gets sessions, QoS and
// no-local like any client, and the broker needs no bridge-specific code. It is trusted (no
// password or ACL checks: the operator configured it).
//
// Threads: everything here runs on the shard's thread. Held by shared_ptr: every task posted
// to the shard keeps it alive. Start/Stop/Publish post onto it; the
// callbacks are invoked on it and should post onward.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bridge/bridge_config.h"
#include "broker/broker.h"
#include "broker/client.h"
#include "broker/client_channel.h"
#include "codec/decoder.h"

namespace meshmq::bridge {

// User property marking a message that crossed a bridge: value = the bridge's origin id. A
// bridge never sends back out a message carrying its own mark (loop prevention).
inline constexpr const char* kOriginProperty = "meshmq-bridge";

class LocalLink : public broker::ClientChannel, public std::enable_shared_from_this<LocalLink> {
 public:
  // A local message that matched an "out" filter, already acknowledged locally.
  using OnMessage = std::function<void(codec::Publish)>;

  LocalLink(broker::Broker& broker, int shard, std::string client_id,
            std::vector<TopicMapping> out, std::string origin, OnMessage on_message);
  ~LocalLink() override;

  void Start();
  // Ends the local session; `done` runs on the shard thread once the client is gone.
  void Stop(std::function<void()> done);
  // Publishes into the local broker as this client (so no-local keeps it off our "out").
  void Publish(codec::Publish publish);

  // broker::ClientChannel (shard thread)
  void Send(std::string_view bytes) override;
  void SendWithPayload(std::string_view header, codec::SharedBytes payload) override;
  std::size_t QueuedBytes() const override { return 0; }
  void Close() override;
  const std::string& RemoteAddress() const override { return address_; }
  bool Trusted() const override { return true; }

 private:
  void Connect();
  void Feed(const codec::Packet& packet);  // encoded into the broker client, posted
  void OnPacket(codec::Packet& packet);
  void PublishNow(codec::Publish publish);

  broker::Broker& broker_;
  broker::Shard& shard_;
  const std::string client_id_;
  const std::vector<TopicMapping> out_;
  const std::string origin_;
  const std::string address_;
  OnMessage on_message_;
  // Shard thread only.
  std::unique_ptr<broker::Client> client_;
  codec::Decoder decoder_{codec::DecodeRole::kClient};
  bool stopping_ = false;
  uint16_t next_id_ = 0;
  int qos2_inflight_ = 0;                // ours to the broker; bounded under its max-inflight
  std::deque<codec::Publish> waiting_;   // QoS 2 publishes beyond that bound
};

}  // namespace meshmq::bridge
