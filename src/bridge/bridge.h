// One running MQTT bridge: the remote connection (the project codec over Asio TCP or TLS), the
// bounded queue of local messages waiting for the remote, and the LocalLink into this broker.
//
// Threads: the remote side, the queue and the counters' writers run on the bridges' io_context
// thread (one for all bridges). The LocalLink runs on its shard and posts here. Held by
// shared_ptr; every coroutine keeps it alive.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>

#include "absl/status/status.h"
#include "bridge/bridge_config.h"
#include "bridge/local_link.h"
#include "broker/broker.h"
#include "codec/decoder.h"

namespace meshmq::bridge {

// Per bridge, for /metrics; they outlive restarts of the bridge (it moves between nodes).
struct BridgeStats {
  std::atomic<int64_t> connected{0};     // 1 while the remote session is up
  std::atomic<int64_t> active{0};        // 1 while this node runs the bridge
  std::atomic<int64_t> queued{0};        // waiting for the remote
  std::atomic<uint64_t> messages_in{0};  // remote -> local
  std::atomic<uint64_t> messages_out{0}; // local -> remote (QoS 1/2: acknowledged)
  std::atomic<uint64_t> dropped{0};      // queue full, or refused by the remote
  std::atomic<uint64_t> reconnects{0};   // connection attempts after a failure or loss
};

class Bridge : public std::enable_shared_from_this<Bridge> {
 public:
  Bridge(boost::asio::io_context& io, broker::Broker& broker, BridgeConfig config,
         std::shared_ptr<BridgeStats> stats);
  ~Bridge();

  // Builds the TLS context (files are read here: errors are start-up errors).
  absl::Status Init();
  void Start();                           // bridges' thread
  void Stop(std::function<void()> done);  // bridges' thread; done once the local side is gone

 private:
  using Socket = boost::asio::ip::tcp::socket;
  using TlsStream = boost::asio::ssl::stream<Socket>;
  struct Outgoing {
    codec::Publish publish;  // remote topic and QoS already set
    uint64_t seq = 0;
    bool released = false;   // QoS 2: PUBREC seen, PUBREL sent
  };

  boost::asio::awaitable<void> Run();
  boost::asio::awaitable<absl::Status> Session();
  boost::asio::awaitable<absl::Status> Handshake(uint64_t gen);
  boost::asio::awaitable<void> Heartbeat(uint64_t gen);
  boost::asio::awaitable<void> WriteLoop(uint64_t gen);
  void SendPacket(const codec::Packet& packet);
  void CloseSocket();
  void OnPacket(codec::Packet& packet);
  void OnRemotePublish(codec::Publish& publish);
  void OnLocalMessage(codec::Publish publish);  // bridges' thread
  void Pump();
  void RequeueInflight();
  uint16_t NextPacketId();
  bool IsEcho(const codec::Publish& publish);  // v3.1.1 loop prevention
  void RememberSent(const codec::Publish& publish);

  boost::asio::io_context& io_;
  broker::Broker& broker_;
  const BridgeConfig config_;
  const std::shared_ptr<BridgeStats> stats_;
  const std::string origin_;  // value of the kOriginProperty mark
  std::unique_ptr<boost::asio::ssl::context> tls_;
  std::shared_ptr<LocalLink> local_;

  // Bridges' thread only.
  bool stopped_ = false;
  bool connected_ = false;
  uint64_t gen_ = 0;  // one per connection attempt; stale coroutines see a newer value and end
  std::unique_ptr<TlsStream> stream_;
  boost::asio::steady_timer backoff_timer_;
  codec::Decoder decoder_{codec::DecodeRole::kClient};
  std::chrono::steady_clock::time_point deadline_, last_sent_;
  std::deque<std::string> write_queue_;
  bool writing_ = false;
  std::deque<Outgoing> queue_;
  std::map<uint16_t, Outgoing> inflight_;
  uint16_t next_id_ = 0;
  uint64_t next_seq_ = 0;
  std::set<uint16_t> incoming_qos2_;  // remote QoS 2 ids awaiting PUBREL
  // v3.1.1 remotes have no no-local: fingerprints of what we sent, to drop the echo.
  std::deque<std::pair<std::chrono::steady_clock::time_point, size_t>> sent_fingerprints_;
  std::multiset<size_t> sent_set_;
};

}  // namespace meshmq::bridge
