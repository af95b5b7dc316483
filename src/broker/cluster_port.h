// What the broker asks of the cluster. Defined here so the broker never includes gRPC; src/cluster
// implements it and src/app wires it. Every method is thread-safe and must not block a shard.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/forward_placement.h"
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

// Messages of one received forward batch that are not built yet. The shard that routes one
// builds it, so the thread that allocates a message is, in the common case, the one that frees it
// after writing it: built on the cluster's receiving thread, every message (and its topic, payload
// and client id) was freed on a shard, and the allocator's cross-thread path cost that thread
// about a third of its time. Immutable; any thread.
class UnbuiltMessages {
 public:
  virtual ~UnbuiltMessages() = default;
  virtual std::string_view topic(uint32_t index) const = 0;
  virtual MessagePtr Build(uint32_t index) const = 0;
};

// One message forwarded from another node, for this node's local subscribers only: ordinary
// matching subscriptions (to_subscribers) and one local member of each group in shared_filters.
struct RemoteDelivery {
  MessagePtr msg;  // null: entry `unbuilt` of the batch's UnbuiltMessages
  bool to_subscribers = false;
  std::vector<std::string> shared_filters;
  uint32_t unbuilt = 0;
};

// One received forward batch, in the order its sender queued it.
struct ForwardedBatch {
  std::vector<RemoteDelivery> items;
  std::shared_ptr<const UnbuiltMessages> unbuilt;  // set when an item's msg is null
  std::shared_ptr<ForwardPlacement> placement;     // the sending peer's; null = by topic hash
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
  // The session moved to `node_id` (Shard::MoveSession): done() once no peer can still send
  // this node a message for it that `node_id` does not also get, or after a time bound. Any
  // thread. The default (no peers to wait for) calls it at once.
  virtual void AwaitForwardBarrier(const std::string& node_id, std::function<void()> done) {
    (void)node_id;
    done();
  }
  virtual void PublishRetained(MessagePtr msg) = 0;
  virtual void ClientConnected(const std::string& client_id, int64_t connected_at_ms) = 0;
  virtual void ClientDisconnected(const std::string& client_id) = 0;
  // Takes client_id over from whichever other node holds it; done(session state bytes or nullopt)
  // is always called, also on timeout.
  virtual void ClaimClientId(const std::string& client_id,
                             std::function<void(std::optional<std::string>)> done) = 0;
};

}  // namespace meshmq::broker
