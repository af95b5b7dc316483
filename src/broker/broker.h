// The broker of one node: its shards (one io_context and thread each), the client-id registry,
// the retained store and the link to the cluster. Created and started by src/app.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "auth/auth_service.h"
#include "broker/address_limiter.h"
#include "broker/client_registry.h"
#include "broker/hook_chain.h"
#include "broker/cluster_port.h"
#include "broker/filter_counts.h"
#include "broker/memory_account.h"
#include "broker/message.h"
#include "broker/options.h"
#include "broker/retained_store.h"
#include "broker/session.h"
#include "broker/shard.h"
#include "broker/stats.h"
#include "broker/storage_port.h"

namespace meshmq::broker {

// Sum of every shard's counters at one moment.
struct StatsSnapshot {
  uint64_t connections_total = 0;
  int64_t connections_current = 0, sessions = 0, sessions_offline = 0, subscriptions = 0,
          shared_subscriptions = 0, inflight = 0;
  uint64_t messages_received[3] = {}, messages_sent[3] = {};
  uint64_t bytes_received = 0, bytes_sent = 0;
  uint64_t handoffs = 0;
  uint64_t dropped[static_cast<int>(DropReason::kCount)] = {};
  uint64_t session_failures = 0, protocol_errors = 0;
  uint64_t overload[static_cast<int>(OverloadEvent::kCount)] = {};
  size_t retained = 0, routes = 0;
  // The memory account and its marks (0 when no mark is set).
  int64_t memory_accounted = 0;
  uint64_t memory_high_water = 0, memory_low_water = 0;
  bool memory_overloaded = false;
};

class Broker {
 public:
  explicit Broker(BrokerOptions options);
  ~Broker();

  // Starts one thread per shard. Stop() ends them after the io_contexts drain.
  void Start();
  void Stop();

  const BrokerOptions& options() const { return options_; }
  int shard_count() const { return static_cast<int>(shards_.size()); }
  Shard& shard(int i) { return *shards_[i]; }
  boost::asio::io_context& io(int i) { return *contexts_[i]; }
  RetainedStore& retained() { return retained_; }
  ClientRegistry& registry() { return registry_; }
  ClusterPort* cluster() { return cluster_; }
  void set_cluster(ClusterPort* cluster) { cluster_ = cluster; }
  // Authentication and ACL; nullptr = everyone may connect, publish and subscribe.
  auth::AuthService* auth() { return auth_; }
  void set_auth(auth::AuthService* auth);
  // C++ hooks (include/meshmq/hooks.h): added before Start(), read-only afterwards.
  HookChain& hooks() { return hooks_; }
  // Password checks cost a PBKDF2 round (~100 ms): they run here, never on a shard thread.
  boost::asio::thread_pool& auth_pool() { return *auth_pool_; }
  std::chrono::steady_clock::time_point started_at() const { return started_at_; }
  bool stopping() const { return stopping_.load(); }
  // Connections per client address, shared by every listener (--max-connections-per-address).
  AddressLimiter& address_limiter() { return address_limiter_; }
  // True from the moment the memory account reached the high-water mark until it fell below the
  // low one (sampled every kMemorySampleInterval); any thread.
  bool memory_overloaded() const { return memory_overloaded_.load(std::memory_order_relaxed); }
  static constexpr std::chrono::milliseconds kMemorySampleInterval{50};

  // Node-wide reference count of filters across shards; the first subscriber of a filter on this
  // node announces a route to the cluster, the last one withdraws it. Called on subscribe paths.
  void RouteRef(const std::string& filter, int delta);
  std::vector<std::string> LocalRoutes() const;

  // Persistent store; nullptr (the default) = sessions and retained messages live in RAM only.
  // Set before Start(), like Restore().
  StoragePort* storage() const { return storage_; }
  // Key of the next stored message. One counter for the node, so RocksDB gets its keys in
  // nearly ascending order (cheap memtable inserts); touched only when a store is set.
  uint64_t NextStoreSeq() { return next_store_seq_.fetch_add(1, std::memory_order_relaxed); }
  void set_storage(StoragePort* storage) { storage_ = storage; }
  // Brings back what the store held (before Start(): touches the shards from this thread).
  // Returns how many sessions were restored (expired ones are deleted instead).
  size_t Restore(LoadedData data);

  // Stores / replicates a retained message (empty payload deletes). `shard`: the calling shard,
  // whose batch the write joins; -1 off the shard threads (written at once).
  void StoreRetained(const MessagePtr& msg, bool replicate, int shard = -1);
  // A retained message replicated by a peer: kept if newer (and then persisted).
  void ApplyRetained(MessagePtr msg);

  // Entry points for the cluster (any thread; they post to shards).
  void RemoteRoutesChanged(const std::string& node, const std::vector<std::string>& added,
                           const std::vector<std::string>& removed);
  void NodeDown(const std::string& node);
  void DeliverForwarded(MessagePtr msg, bool to_subscribers, std::vector<std::string> shared,
                        std::function<void()> done);
  // One forward batch: one task per shard that gets part of it (not one per message), each
  // shard's part in batch order; done() once every part is handed to local sessions.
  void DeliverForwardedBatch(ForwardedBatch batch, std::function<void()> done);
  // to_node: the node that took the session over; empty = gone without a forwarding tombstone.
  void TakeOverSession(const std::string& client_id, const std::string& to_node,
                       std::function<void(std::optional<SessionState>)> done);
  // A message for one session, passed on by the node it moved away from (session_move.cc).
  void DeliverToSession(MessagePtr msg, SessionTarget target, std::function<void()> done);
  // DeliverToSession for an id with no session here but maybe a forwarding tombstone.
  void PassOnToTombstone(MessagePtr msg, SessionTarget target, std::function<void()> done);
  void EvictClient(const std::string& client_id);
  // Runs one task on every shard after what is already posted to it, then done() on the shard
  // that finished last (forward barriers, session_move.cc).
  void SyncShards(std::function<void()> done);

  // Publishes from inside the node ($SYS, admin API): routed like a client's publish.
  void Publish(MessagePtr msg);
  // Disconnects a client (admin kick). done(found) runs on the client's shard.
  void Kick(const std::string& client_id, std::function<void(bool)> done);

  StatsSnapshot Stats() const;

  // Runs fn on every shard's thread and calls done on the calling side's shard 0 afterwards.
  void ForEachShard(std::function<void(Shard&)> fn);

 private:
  void StartSysTimer();
  void PublishSys();
  void SampleMemory();
  void PersistRetained(const MessagePtr& msg, int shard);

  BrokerOptions options_;
  // Before contexts_: connections still queued in an io_context release their slot when it is
  // destroyed, so the limiter must outlive the contexts.
  AddressLimiter address_limiter_;
  HookChain hooks_;  // before the shards: their Stats call it on drops until they are gone
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guards_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<std::thread> threads_;
  RetainedStore retained_;
  ClientRegistry registry_;
  ClusterPort* cluster_ = nullptr;
  StoragePort* storage_ = nullptr;
  std::atomic<uint64_t> next_store_seq_{1};
  auth::AuthService* auth_ = nullptr;
  std::unique_ptr<boost::asio::thread_pool> auth_pool_;
  std::chrono::steady_clock::time_point started_at_;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<boost::asio::steady_timer> sys_timer_;
  MemoryGuard memory_guard_;  // touched by the sampler on shard 0 only
  std::atomic<bool> memory_overloaded_{false};
  std::unique_ptr<boost::asio::steady_timer> memory_timer_;

  mutable absl::Mutex routes_mu_;
  FilterCounts route_refs_ ABSL_GUARDED_BY(routes_mu_);  // filter -> shards holding it
};

int64_t NowMs();  // wall clock, ms since the Unix epoch

}  // namespace meshmq::broker
