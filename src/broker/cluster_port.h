// What the broker asks of the cluster. Defined here so the broker never includes gRPC; src/cluster
// implements it and src/app wires it. Every method is thread-safe and must not block a shard.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "broker/message.h"

namespace meshmq::broker {

// A delivery to one session, as this node's matching subscription decided it. Used when a
// session moved to another node while messages for it were still arriving here.
struct SessionTarget {
  std::string client_id;
  uint8_t qos = 0;        // min(published QoS, granted QoS)
  bool retain = false;    // RETAIN flag to send
  std::vector<uint32_t> subscription_ids;
};

// One message forwarded from another node, for this node's local subscribers only: ordinary
// matching subscriptions (to_subscribers) and one local member of each group in shared_filters.
struct RemoteDelivery {
  MessagePtr msg;
  bool to_subscribers = false;
  std::vector<std::string> shared_filters;
};

class ClusterPort {
 public:
  virtual ~ClusterPort() = default;
  // This node gained its first / lost its last subscriber of `filter` ("$share/g/f" included).
  virtual void AddLocalRoute(const std::string& filter) = 0;
  virtual void RemoveLocalRoute(const std::string& filter) = 0;
  // Send `msg` once to `node_id`, to be delivered there to ordinary subscribers (to_subscribers)
  // and/or to one member of each shared group in `shared_filters`. on_queued(true) once it is
  // safely queued for that node; the publisher's PUBACK waits for it.
  virtual void Forward(const std::string& node_id, MessagePtr msg, bool to_subscribers,
                       std::vector<std::string> shared_filters,
                       std::function<void(bool)> on_queued) = 0;
  // Send `msg` to the session `target.client_id`, which moved to `node_id` (see
  // Shard::MoveSession); on_queued as for Forward.
  virtual void ForwardToSession(const std::string& node_id, MessagePtr msg, SessionTarget target,
                                std::function<void(bool)> on_queued) = 0;
  virtual void PublishRetained(MessagePtr msg) = 0;
  virtual void ClientConnected(const std::string& client_id, int64_t connected_at_ms) = 0;
  virtual void ClientDisconnected(const std::string& client_id) = 0;
  // Takes client_id over from whichever other node holds it; done(session state bytes or nullopt)
  // is always called, also on timeout.
  virtual void ClaimClientId(const std::string& client_id,
                             std::function<void(std::optional<std::string>)> done) = 0;
};

}  // namespace meshmq::broker
