// The node's effective configuration: defaults, then the JSON config file, then MESHMQ_*
// environment variables, then command-line flags (each later source overrides the earlier).
//
// Built once at start-up on the main thread, then read-only and shared by every module.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace meshmq::config {

struct HostPort {
  std::string host;
  uint16_t port = 0;
  std::string ToString() const;  // "host:port", IPv6 hosts in brackets
  bool operator==(const HostPort&) const = default;
};

// Parses "host:port", "[v6]:port" or ":port" (host defaults to 0.0.0.0). Port 0 is allowed
// (bind to any free port).
absl::StatusOr<HostPort> ParseHostPort(const std::string& text);

struct Config {
  // --- node
  std::string node_id;           // --node-id; default: the host name (pod name in Kubernetes)
  int workers = 0;               // --workers; 0 = one per hardware thread
  std::string log_level = "info";  // --log-level trace|debug|info|warn|error
  std::string log_format = "text";  // --log-format text|json

  // --- MQTT listener and protocol limits
  HostPort mqtt_listen{"0.0.0.0", 1883};  // --mqtt-listen
  // TLS (8883) and secure WebSocket (8084) run when a certificate and key are given; WebSocket
  // is opt-in (e.g. --ws-listen 0.0.0.0:8083). "off" disables any of them.
  HostPort tls_listen{"0.0.0.0", 8883};   // --tls-listen
  std::string tls_cert;                   // --tls-cert PEM file
  std::string tls_key;                    // --tls-key PEM file
  std::string tls_ca;                     // --tls-ca: CA for client certificates
  bool tls_verify_client = false;         // --tls-verify-client: require a client certificate
  HostPort ws_listen{"off", 0};           // --ws-listen (path /mqtt)
  HostPort wss_listen{"0.0.0.0", 8084};   // --wss-listen
  uint32_t max_connections = 100000;      // --max-connections (0 = unlimited)
  uint32_t max_packet_size = 1048576;     // --max-packet-size, bytes, both directions
  uint32_t max_queued_messages = 1000;    // --max-queued-messages per session (offline + pending)
  uint16_t max_inflight = 32;             // --max-inflight: QoS 1/2 window per session each way
  uint16_t max_topic_alias = 64;          // --max-topic-alias: server's Topic Alias Maximum
  uint32_t max_session_expiry = 4294967295u;  // --max-session-expiry seconds (cap on v5 requests)
  uint16_t max_keep_alive = 0;            // --max-keep-alive seconds (0 = accept client's value)
  uint32_t connect_timeout_ms = 10000;    // --connect-timeout-ms: CONNECT must arrive within
  uint32_t retry_interval_ms = 20000;     // --retry-interval-ms: resend unacked QoS>0 (3.x only)
  std::string shared_subscription_strategy = "round_robin";  // round_robin|random|hash_client_id
  uint32_t sys_interval_s = 10;           // --sys-interval: $SYS publish period, 0 = off

  // --- overload protection (docs/security.md, "Overload protection"); 0 = unlimited
  uint32_t max_connections_per_address = 0;  // --max-connections-per-address
  uint32_t max_accept_rate = 1000;        // --max-accept-rate: connections/s per listener
  uint32_t max_publish_rate = 0;          // --max-publish-rate: PUBLISH/s per client
  uint32_t max_publish_bytes_rate = 0;    // --max-publish-bytes-rate: bytes/s per client
  uint32_t max_subscriptions = 10000;     // --max-subscriptions per client session
  uint32_t max_topic_levels = 128;        // --max-topic-levels of topic names and filters
  uint32_t max_outbound_bytes = 4194304;  // --max-outbound-bytes unwritten per connection
  std::string slow_consumer_policy = "drop";  // --slow-consumer-policy drop|disconnect
  uint32_t memory_high_water_mb = 0;      // --memory-high-water-mb; 0 = a quarter of RAM
  uint32_t memory_low_water_percent = 80;  // --memory-low-water-percent of the high mark

  // --- cluster (see docs/cluster.md)
  HostPort cluster_listen{"0.0.0.0", 8081};  // --cluster-listen
  std::string cluster_advertise;             // --cluster-advertise host:port; default derived
  std::string cluster_name = "meshmq";       // --cluster-name
  std::string cluster_secret;                // --cluster-secret (never logged or printed)
  std::string cluster_secret_file;           // --cluster-secret-file
  std::string discovery = "none";            // --discovery none|static|dns|dns-srv
  std::vector<HostPort> peers;               // --peers host:port,host:port
  std::string dns_name;                      // --dns-name
  std::string dns_server;                    // --dns-server host:port (tests)
  uint32_t dns_refresh_ms = 5000;            // --dns-refresh-ms
  uint32_t failure_timeout_ms = 5000;        // --failure-timeout (ms)
  // Forwarding to a peer (docs/cluster.md, "Forward batching"): messages per frame, and how long
  // the writer waits after a busy drain so the next frame fills.
  uint32_t forward_batch = 1024;             // --forward-batch
  uint32_t forward_linger_us = 150;          // --forward-linger-us
  // Mutual TLS between nodes (docs/security.md): cert, key and CA all set, or none.
  std::string cluster_tls_cert;         // --cluster-tls-cert PEM: this node's certificate
  std::string cluster_tls_key;          // --cluster-tls-key PEM
  std::string cluster_tls_ca;           // --cluster-tls-ca PEM: CA that signs every node
  std::string cluster_tls_server_name;  // --cluster-tls-server-name: name peers' certs carry

  // --- HTTP (metrics, health, admin API)
  HostPort http_listen{"0.0.0.0", 8082};  // --http-listen; port 0 with host "off" disables
  std::string http_api_token;             // --http-api-token: bearer token for /api/v1 (secret)

  // --- authentication and authorization (docs/security.md)
  std::string password_file;              // --password-file: PBKDF2 hashes (meshmq passwd)
  std::string acl_file;                   // --acl-file
  std::string allow_anonymous = "auto";   // --allow-anonymous auto|true|false
  // HTTP auth/ACL backend (docs/extending.md)
  std::string auth_http_url;                      // --auth-http-url http://host:port/path
  std::string acl_http_url;                       // --acl-http-url
  uint32_t auth_http_timeout_ms = 2000;           // --auth-http-timeout-ms
  uint32_t auth_http_cache_ttl_ms = 60000;        // --auth-http-cache-ttl-ms; 0 = no cache
  std::string auth_http_failure_policy = "deny";  // --auth-http-failure-policy deny|allow
  uint32_t auth_http_max_concurrency = 16;        // --auth-http-max-concurrency

  // --- MQTT bridges (docs/extending.md): a JSON array, usually the config file's "bridges"
  std::string bridges;  // --bridges '[{...}]' (secret: it may hold passwords)

  // --- storage
  std::string storage = "memory";  // --storage memory|rocksdb
  std::string data_dir;            // --data-dir
  // --storage-sync none|periodic|always: when the RocksDB log is fsynced (docs/storage.md).
  std::string storage_sync = "periodic";
  uint32_t storage_sync_interval_ms = 1000;  // --storage-sync-interval-ms (periodic)
  // --storage-commit-delay-us: longest wait of a busy shard's group commit (docs/storage.md).
  uint32_t storage_commit_delay_us = 3000;

  // --- operations
  uint32_t drain_timeout_ms = 20000;  // --drain-timeout-ms: SIGTERM to exit, at most (k8s: < 30 s)
  std::string trace_clients;          // --trace-clients PREFIX: log every packet of these clients

  // --- testing aids, off by default
  bool debug_fault_injection = false;  // --debug-fault-injection: "$meshmq/debug/throw" throws
};

// Outcome of command-line parsing: a config to run, or an exit (help/version/print-config/error).
struct LoadResult {
  Config config;
  bool exit_now = false;  // --help, --version, --print-config were handled, or an error
  int exit_code = 0;      // 0 after --help/--version/--print-config, 2 after an error
  std::string output;     // text for stdout (help, version, effective config)
  std::string error;      // one clear line for stderr, naming the flag/key/variable at fault
};

// Parses argv, the environment (`envp`, as given to main) and the --config file.
LoadResult Load(int argc, const char* const* argv, const char* const* envp);

// The effective configuration as JSON, secrets replaced by "***".
std::string ToJson(const Config& config);

}  // namespace meshmq::config
