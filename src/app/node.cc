#include "app/node.h"

#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "app/advertise.h"
#include "app/auth_hook.h"
#include "broker/builtin_acl_hook.h"
#include "app/extensions.h"
#include "discovery/peer_source.h"
#include "storage/open_store.h"

namespace meshmq::app {

broker::BrokerOptions BrokerOptionsFrom(const config::Config& c) {
  broker::BrokerOptions o;
  o.node_id = c.node_id;
  o.workers = c.workers > 0 ? c.workers : static_cast<int>(std::thread::hardware_concurrency());
  if (o.workers <= 0) o.workers = 1;
  o.max_connections = c.max_connections;
  o.max_packet_size = c.max_packet_size;
  o.max_queued_messages = c.max_queued_messages;
  o.max_inflight = c.max_inflight;
  o.max_topic_alias = c.max_topic_alias;
  o.max_session_expiry = c.max_session_expiry;
  o.max_keep_alive = c.max_keep_alive;
  o.connect_timeout_ms = c.connect_timeout_ms;
  broker::ParseSharedStrategy(c.shared_subscription_strategy, o.shared_strategy);
  o.sys_interval_s = c.sys_interval_s;
  o.debug_fault_injection = c.debug_fault_injection;
  o.trace_clients = c.trace_clients;
  o.drain_timeout_ms = c.drain_timeout_ms;
  o.storage_commit_delay_us = c.storage_commit_delay_us;
  o.max_connections_per_address = c.max_connections_per_address;
  o.max_accept_rate = c.max_accept_rate;
  o.max_publish_rate = c.max_publish_rate;
  o.max_publish_bytes_rate = c.max_publish_bytes_rate;
  o.max_subscriptions = c.max_subscriptions;
  o.max_topic_levels = c.max_topic_levels;
  o.max_outbound_bytes = c.max_outbound_bytes;
  o.slow_consumer_policy = c.slow_consumer_policy == "disconnect"
                               ? broker::SlowConsumerPolicy::kDisconnect
                               : broker::SlowConsumerPolicy::kDrop;
  uint64_t high = uint64_t{c.memory_high_water_mb} << 20;
  if (high == 0) {
    // A quarter of the machine: the account counts message bytes only, and the process needs
    // room beyond them (connections, indexes, allocator slack).
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0) high = uint64_t(pages) * uint64_t(page) / 4;
  }
  o.memory_high_water_bytes = high;
  o.memory_low_water_bytes = high / 100 * c.memory_low_water_percent;
  return o;
}

std::vector<transport::ListenerConfig> ListenerConfigsFrom(const config::Config& c) {
  using transport::ListenerKind;
  std::vector<transport::ListenerConfig> out;
  auto add = [&](ListenerKind kind, const config::HostPort& at) {
    if (at.host == "off") return;
    transport::ListenerConfig l;
    l.kind = kind;
    l.host = at.host;
    l.port = at.port;
    l.tls.cert_file = c.tls_cert;
    l.tls.key_file = c.tls_key;
    l.tls.ca_file = c.tls_ca;
    l.tls.verify_client = c.tls_verify_client;
    out.push_back(std::move(l));
  };
  bool tls = !c.tls_cert.empty() && !c.tls_key.empty();
  add(ListenerKind::kTcp, c.mqtt_listen);
  if (tls) add(ListenerKind::kTls, c.tls_listen);
  add(ListenerKind::kWs, c.ws_listen);
  if (tls) add(ListenerKind::kWss, c.wss_listen);
  return out;
}

Node::Node(config::Config config) : config_(std::move(config)) {
  broker_ = std::make_unique<broker::Broker>(BrokerOptionsFrom(config_));
  AddBuiltInHooks();
  for (auto& l : ListenerConfigsFrom(config_)) {
    listeners_.push_back(std::make_unique<transport::Listener>(*broker_, std::move(l)));
  }
}

absl::Status Node::ReloadCertificates() {
  absl::Status result;
  for (auto& l : listeners_) result.Update(l->ReloadCertificates());
  return result;
}

Node::~Node() { Stop(); }

namespace {

// PEM files for mutual TLS between nodes; a missing or empty file is a start-up error.
absl::Status ReadPem(const std::string& flag, const std::string& path, std::string* out) {
  if (path.empty()) return absl::OkStatus();
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in || text.str().empty()) {
    return absl::InvalidArgumentError("--" + flag + ": cannot read PEM file \"" + path + "\"");
  }
  *out = text.str();
  return absl::OkStatus();
}

}  // namespace

absl::Status Node::StartCluster() {
  std::unique_ptr<discovery::PeerSource> peers;
  if (config_.discovery == "static") {
    discovery::PeerSet set(config_.peers.begin(), config_.peers.end());
    peers = discovery::MakeStaticSource(std::move(set));
  } else if (config_.discovery == "dns" || config_.discovery == "dns-srv") {
    discovery::DnsOptions dns;
    dns.name = config_.dns_name;
    dns.use_srv = config_.discovery == "dns-srv";  // each SRV record brings its own port
    dns.server = config_.dns_server;
    dns.peer_port = config_.cluster_listen.port;
    dns.refresh_ms = static_cast<int>(config_.dns_refresh_ms);
    peers = discovery::MakeDnsSource(std::move(dns));
  } else {
    return absl::OkStatus();  // a single node
  }
  cluster::ClusterOptions options;
  options.node_id = config_.node_id;
  options.incarnation = std::random_device{}() ^ (uint64_t(std::random_device{}()) << 32) ^
                        static_cast<uint64_t>(broker::NowMs());
  options.cluster_name = config_.cluster_name;
  options.secret = config_.cluster_secret;
  options.listen = config_.cluster_listen.ToString();
  options.advertise = ClusterAdvertiseAddress(config_);
  options.http_address = HttpAdvertiseAddress(config_);
  options.failure_timeout_ms = static_cast<int>(config_.failure_timeout_ms);
  options.heartbeat_ms = std::max(50, options.failure_timeout_ms / 5);
  options.max_forward_batch = config_.forward_batch;
  options.forward_linger_us = static_cast<int>(config_.forward_linger_us);
  for (absl::Status s : {ReadPem("cluster-tls-cert", config_.cluster_tls_cert, &options.tls_cert_pem),
                         ReadPem("cluster-tls-key", config_.cluster_tls_key, &options.tls_key_pem),
                         ReadPem("cluster-tls-ca", config_.cluster_tls_ca, &options.tls_ca_pem)}) {
    if (!s.ok()) return s;
  }
  options.tls_server_name = config_.cluster_tls_server_name;
  peer_source_ = peers.get();
  cluster_adapter_ = std::make_unique<ClusterAdapter>(*broker_);
  cluster_ = std::make_unique<cluster::ClusterNode>(options, *cluster_adapter_, std::move(peers));
  cluster_adapter_->set_node(cluster_.get());
  broker_->set_cluster(cluster_adapter_.get());
  if (absl::Status s = cluster_->Start(); !s.ok()) return s;
  spdlog::info("cluster {}: node {} listening on {}, advertised as {}, discovery {}",
               config_.cluster_name, config_.node_id, cluster_->BoundAddress(), options.advertise,
               config_.discovery);
  return absl::OkStatus();
}

bool Node::AuthConfigured() const {
  return !config_.password_file.empty() || !config_.acl_file.empty() ||
         !config_.auth_http_url.empty() || !config_.acl_http_url.empty() ||
         config_.allow_anonymous == "false";
}

void Node::AddBuiltInHooks() {
  // First in the chain, before any hook a host program adds; the host may take them out or move
  // them (Server::SetHooks). They reach the AuthService through the broker once StartAuth made it.
  if (!AuthConfigured()) return;  // open broker: no checks at all
  broker_->hooks().Add(std::make_shared<BuiltInAuthHook>(*broker_));
  if (!config_.acl_file.empty() || !config_.acl_http_url.empty()) {
    broker_->hooks().Add(
        std::make_shared<broker::BuiltInAclHook>(*broker_, !config_.acl_http_url.empty()));
  }
}

absl::Status Node::StartAuth() {
  if (!AuthConfigured()) return absl::OkStatus();  // open broker: no checks at all
  auth::AuthOptions options;
  options.password_file = config_.password_file;
  options.acl_file = config_.acl_file;
  if (config_.allow_anonymous != "auto") options.allow_anonymous = config_.allow_anonymous == "true";
  options.http = HttpAuthOptionsFrom(config_);
  auto service = auth::AuthService::Create(options);
  if (!service.ok()) return service.status();
  auth_ = std::move(*service);
  broker_->set_auth(auth_.get());
  spdlog::info("authentication: password file {}, ACL file {}, anonymous {}",
               config_.password_file.empty() ? "none" : config_.password_file,
               config_.acl_file.empty() ? "none" : config_.acl_file, config_.allow_anonymous);
  return absl::OkStatus();
}

absl::Status Node::StartBridges() {
  auto configs = bridge::ParseBridges(config_.bridges);
  if (!configs.ok()) return configs.status();
  if (configs->empty()) return absl::OkStatus();
  // One node per cluster runs the bridges: the live node with the lowest node id, once the
  // cluster view is complete (docs/extending.md, "Bridges in a cluster").
  std::function<bool()> should_run;
  if (cluster_) {
    should_run = [cluster = cluster_.get(), self = config_.node_id] {
      if (!cluster->Ready()) return false;
      for (const auto& m : cluster->Members()) {
        if ((m.state == "alive" || m.state == "suspect") && m.node_id < self) return false;
      }
      return true;
    };
  }
  bridges_ = std::make_unique<bridge::BridgeManager>(*broker_, *std::move(configs), should_run);
  return bridges_->Start();
}

absl::Status Node::StartStorage() {
  if (config_.storage != "rocksdb") return absl::OkStatus();  // sessions live in RAM only
  auto sync = storage::ParseSyncMode(config_.storage_sync);
  if (!sync.ok()) return sync.status();
  auto store = storage::OpenRocksDbStore(config_.data_dir, *sync,
                                         static_cast<int>(config_.storage_sync_interval_ms),
                                         broker_->shard_count());
  if (!store.ok()) return store.status();
  store_ = std::move(*store);
  auto loaded = store_->Load();
  if (!loaded.ok()) return loaded.status();
  broker_->set_storage(store_.get());
  broker_->Restore(std::move(*loaded));
  spdlog::info("storage: rocksdb in {}, log sync {}", config_.data_dir, config_.storage_sync);
  return absl::OkStatus();
}

void Node::Reload() {
  if (auth_) {
    if (absl::Status s = auth_->Reload(); s.ok()) spdlog::info("reloaded password and ACL files");
  }
}

absl::Status Node::Start() {
  if (absl::Status s = StartAuth(); !s.ok()) return s;
  for (auto& l : listeners_) {
    if (absl::Status s = l->Listen(); !s.ok()) return s;
  }
  if (absl::Status s = StartCluster(); !s.ok()) return s;
  // After the cluster, so restored subscriptions announce their routes to it; before the shards
  // run and the listeners accept, so no client sees a half-restored node.
  if (absl::Status s = StartStorage(); !s.ok()) return s;
  broker_->Start();
  if (absl::Status s = StartBridges(); !s.ok()) return s;
  for (auto& l : listeners_) {
    l->Start();
    spdlog::info("listening: {}", l->Describe());
  }
  HttpWiring wiring;
  wiring.broker = broker_.get();
  wiring.cluster = cluster_.get();
  wiring.peers = peer_source_;
  wiring.listeners_ready = [] { return true; };  // the HTTP server starts after the listeners
  wiring.api_token = config_.http_api_token;
  wiring.http_address = HttpAdvertiseAddress(config_);
  for (auto& l : listeners_) {
    // Bound ports (port 0 resolved); a wildcard host is left for the client to replace.
    std::string d = l->Describe();  // "ws 127.0.0.1:8083"
    wiring.listeners[transport::ListenerKindName(l->kind())] = d.substr(d.find(' ') + 1);
  }
  wiring.extra_metrics = [this] {
    return ExtensionMetrics(auth_.get(), bridges_.get()) + broker_->hooks().RenderMetrics();
  };
  http_ = MakeHttpServer(wiring, config_);       // nullptr when --http-listen off
  if (http_) {
    if (absl::Status s = http_->Start(); !s.ok()) return s;
    spdlog::info("HTTP (metrics, health, admin API) on {}:{}", config_.http_listen.host,
                 http_->port());
  }
  spdlog::info("meshmq {} node {} listening for MQTT on {}:{} with {} workers", MESHMQ_VERSION,
               config_.node_id, config_.mqtt_listen.host, mqtt_port(), broker_->shard_count());
  return absl::OkStatus();
}

void Node::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (http_) http_->SetShuttingDown();  // /readyz answers 503 from now until the exit
  for (auto& l : listeners_) l->Stop();
  // Leave first so peers drop our routes at once and stop forwarding to us.
  if (bridges_) bridges_->Stop();  // before the broker: their local sessions live on its shards
  if (cluster_) cluster_->Stop(/*graceful_leave=*/true);
  // Persistent sessions are kept: Stop writes each shard's last batch, and the store closes
  // (syncing its log) once no shard can write any more.
  broker_->Stop();
  if (http_) http_->Stop();  // last: it holds references to the broker and cluster
  broker_->set_storage(nullptr);
  if (store_) {
    spdlog::info("storage: {} batches written, {} messages written, {} acked before their batch "
                 "(never written)",
                 store_->commits(), store_->messages_written(), store_->cancelled());
  }
  store_.reset();
}

}  // namespace meshmq::app
