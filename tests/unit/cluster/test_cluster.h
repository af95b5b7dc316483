// Test harness: several ClusterNode instances in one process on 127.0.0.1, each wired to a
// FakeLocal that records what the cluster asked of "its broker".
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cluster/cluster_node.h"

namespace meshmq::cluster::testing {

struct Delivered {
  std::string topic, payload, origin_node;
  uint8_t qos;
  bool to_subscribers;
  std::vector<std::string> shared_filters;
};

class FakeLocal : public LocalNode {
 public:
  void RemoteRoutesChanged(const std::string& node, const std::vector<std::string>& added,
                           const std::vector<std::string>& removed) override {
    std::lock_guard<std::mutex> l(mu);
    for (const auto& f : added) routes[node].insert(f);
    for (const auto& f : removed) routes[node].erase(f);
  }
  void NodeDown(const std::string& node) override {
    std::lock_guard<std::mutex> l(mu);
    down.push_back(node);
  }
  void DeliverForwarded(broker::MessagePtr msg, bool to_subscribers,
                        std::vector<std::string> shared_filters,
                        std::function<void()> done) override {
    if (before_deliver) before_deliver(*msg);
    std::lock_guard<std::mutex> l(mu);
    delivered.push_back({msg->topic, msg->payload.str(), msg->origin_node, msg->qos,
                         to_subscribers, std::move(shared_filters)});
    if (hold_done) {
      held.push_back(std::move(done));
    } else {
      done();
    }
  }
  void ApplyRetained(broker::MessagePtr msg) override {
    std::lock_guard<std::mutex> l(mu);
    ++retained_applied;
    // The contract: the store keeps last-writer-wins too, since a local set may race this call.
    if (auto it = retained.find(msg->topic); it != retained.end()) {
      const broker::Message& cur = *it->second;
      if (std::pair(msg->timestamp_ms, msg->origin_node) <
          std::pair(cur.timestamp_ms, cur.origin_node)) {
        return;
      }
    }
    if (msg->payload.empty()) {
      retained.erase(msg->topic);
    } else {
      retained[msg->topic] = msg;
    }
  }
  void DeliverToSession(broker::MessagePtr msg, broker::SessionTarget target,
                        std::function<void()> done) override {
    {
      std::lock_guard<std::mutex> l(mu);
      targeted.push_back({std::move(msg), std::move(target)});
    }
    done();
  }
  void TakeOverSession(const std::string& client_id, const std::string& to_node,
                       std::function<void(std::optional<std::string>)> done) override {
    std::optional<std::string> bytes;
    {
      std::lock_guard<std::mutex> l(mu);
      takeovers.push_back(client_id);
      takeover_to.push_back(to_node);
      if (never_answer_takeover) return;  // a hung broker: the claimer must time out
      if (auto it = sessions.find(client_id); it != sessions.end()) {
        bytes = it->second;
        sessions.erase(it);
      }
    }
    // Like a broker: answer later, from another thread.
    std::thread([done = std::move(done), bytes] { done(bytes); }).detach();
  }
  void EvictClient(const std::string& client_id) override {
    std::lock_guard<std::mutex> l(mu);
    evicted.push_back(client_id);
  }
  std::vector<broker::MessagePtr> RetainedSnapshot() override {
    std::lock_guard<std::mutex> l(mu);
    std::vector<broker::MessagePtr> out;
    for (auto& [t, m] : retained) out.push_back(m);
    return out;
  }

  void ReleaseHeld() {
    std::vector<std::function<void()>> h;
    {
      std::lock_guard<std::mutex> l(mu);
      h.swap(held);
      hold_done = false;
    }
    for (auto& f : h) f();
  }
  bool HasRoute(const std::string& node, const std::string& f) {
    std::lock_guard<std::mutex> l(mu);
    return routes[node].count(f) > 0;
  }
  size_t RouteCount(const std::string& node) {
    std::lock_guard<std::mutex> l(mu);
    return routes[node].size();
  }
  bool SawDown(const std::string& node) {
    std::lock_guard<std::mutex> l(mu);
    for (auto& d : down) if (d == node) return true;
    return false;
  }
  size_t DeliveredCount() {
    std::lock_guard<std::mutex> l(mu);
    return delivered.size();
  }

  // Runs on the delivering thread before a forward is recorded, without `mu`: a test can hold a
  // delivery there, like a stream reader preempted on its way to the shards. Set before start.
  std::function<void(const broker::Message&)> before_deliver;
  std::mutex mu;
  std::map<std::string, std::set<std::string>> routes;
  std::vector<std::string> down;
  std::vector<Delivered> delivered;
  std::vector<std::pair<broker::MessagePtr, broker::SessionTarget>> targeted;
  std::vector<std::string> takeover_to;
  bool hold_done = false;
  std::vector<std::function<void()>> held;
  std::map<std::string, broker::MessagePtr> retained;
  int retained_applied = 0;
  std::map<std::string, std::string> sessions;
  std::vector<std::string> takeovers;
  bool never_answer_takeover = false;
  std::vector<std::string> evicted;
};

class FakePeers : public discovery::PeerSource {
 public:
  explicit FakePeers(discovery::PeerSet peers) : peers_(std::move(peers)) {}
  void Start(std::function<void(const discovery::PeerSet&)> on_change) override {
    on_change(peers_);
  }
  void Stop() override {}
  uint64_t lookups() const override { return 1; }
  uint64_t lookup_errors() const override { return 0; }

 private:
  discovery::PeerSet peers_;
};

inline uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

inline int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Polls pred every 2 ms; returns the elapsed milliseconds, or -1 on timeout.
inline int64_t WaitFor(const std::function<bool()>& pred, int timeout_ms = 5000) {
  int64_t start = NowMs();
  while (NowMs() - start < timeout_ms) {
    if (pred()) return NowMs() - start;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return pred() ? NowMs() - start : -1;
}

struct TestNode {
  std::string id;
  uint16_t port = 0;
  FakeLocal local;
  std::unique_ptr<ClusterNode> node;
  std::string address() const { return "127.0.0.1:" + std::to_string(port); }
};

inline uint64_t RandomIncarnation() {
  static uint64_t n = static_cast<uint64_t>(NowMs()) * 1000003;
  return ++n * 0x9E3779B97F4A7C15ull;
}

// Nodes "A", "B", ... on free ports, each given every address (its own included) as static peers.
class ClusterFixture {
 public:
  explicit ClusterFixture(int n, std::string secret = "s3cret") : secret_(std::move(secret)) {
    for (int i = 0; i < n; ++i) {
      auto t = std::make_unique<TestNode>();
      t->id = std::string(1, static_cast<char>('A' + i));
      t->port = FreePort();
      nodes_.push_back(std::move(t));
    }
  }
  ~ClusterFixture() {
    for (auto& t : nodes_) {
      if (t->node) t->node->Stop(false);
    }
  }

  ClusterOptions Options(const TestNode& t) const {
    ClusterOptions o;
    o.node_id = t.id;
    o.incarnation = RandomIncarnation();
    o.cluster_name = cluster_name;
    o.secret = secret_;
    o.listen = t.address();
    o.advertise = t.address();
    o.heartbeat_ms = 100;
    o.failure_timeout_ms = 600;
    o.takeover_timeout_ms = 1000;
    o.max_backoff_ms = 300;
    return o;
  }
  discovery::PeerSet AllAddresses() const {
    discovery::PeerSet peers;
    for (auto& t : nodes_) peers.push_back({"127.0.0.1", t->port});
    return peers;
  }
  void Start(int i, ClusterOptions* custom = nullptr) {
    TestNode& t = *nodes_[i];
    ClusterOptions o = custom ? *custom : Options(t);
    t.node = std::make_unique<ClusterNode>(o, t.local, std::make_unique<FakePeers>(AllAddresses()));
    absl::Status s = t.node->Start();
    if (!s.ok()) throw std::runtime_error(s.ToString());
  }
  void StartAll() {
    for (size_t i = 0; i < nodes_.size(); ++i) Start(static_cast<int>(i));
  }
  bool AllReady() {
    for (auto& t : nodes_) {
      if (!t->node || !t->node->Ready()) return false;
    }
    return true;
  }
  // Every node sees every other one alive and has dialled it.
  bool FullMesh() {
    for (auto& t : nodes_) {
      if (!t->node) return false;
      auto m = t->node->Members();
      size_t alive = 0;
      for (auto& info : m) alive += info.state == "alive";
      if (alive != nodes_.size() - 1) return false;
      // Our own streams to them are up too (alive can be learned from their streams alone).
      if (t->node->Stats().streams_established < nodes_.size() - 1) return false;
    }
    return true;
  }
  TestNode& operator[](int i) { return *nodes_[i]; }

  std::string cluster_name = "test-cluster";

 private:
  std::string secret_;
  std::vector<std::unique_ptr<TestNode>> nodes_;
};

inline broker::MessagePtr MakeMsg(std::string topic, std::string payload, uint8_t qos,
                                  std::string origin = "", int64_t ts = 0) {
  auto m = std::make_shared<broker::Message>();
  m->topic = std::move(topic);
  m->payload = codec::SharedBytes(std::move(payload));
  m->qos = qos;
  m->origin_node = std::move(origin);
  m->timestamp_ms = ts;
  return m;
}

}  // namespace meshmq::cluster::testing
