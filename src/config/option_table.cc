#include "config/option_table.h"

#include <algorithm>
#include <cctype>

namespace meshmq::config::internal {
namespace {

constexpr int64_t kU32Max = std::numeric_limits<uint32_t>::max();

const std::vector<Option>& Table() {
  // Rows follow the order of Config's members so --help and --print-config read like config.h.
  // Kept compact by hand (clang-format would spread each row over five lines).
  // clang-format off
  static const auto* const kTable = new std::vector<Option>{
      // --- node
      {.flag = "node-id", .field = &Config::node_id,
       .help = "Unique name of this node in the cluster; empty = $HOSTNAME or the host name."},
      {.flag = "workers", .field = &Config::workers,
       .help = "Worker threads (shards); 0 = one per hardware thread.", .min = 0, .max = 1024},
      {.flag = "log-level", .field = &Config::log_level, .help = "Minimum log level.",
       .choices = {"trace", "debug", "info", "warn", "error"}},
      {.flag = "log-format", .field = &Config::log_format, .help = "Log line format.",
       .choices = {"text", "json"}},
      // --- MQTT listener and protocol limits
      {.flag = "mqtt-listen", .field = &Config::mqtt_listen,
       .help = "MQTT TCP listener address; port 0 picks a free port."},
      {.flag = "max-connections", .field = &Config::max_connections,
       .help = "Maximum concurrent client connections; 0 = unlimited."},
      // 268,435,455 is the largest Variable Byte Integer (MQTT 5 section 1.5.5); below 16 bytes
      // not even a small PUBLISH fits.
      {.flag = "max-packet-size", .field = &Config::max_packet_size,
       .help = "Maximum MQTT packet size in bytes, both directions.", .min = 16,
       .max = 268435455},
      {.flag = "max-queued-messages", .field = &Config::max_queued_messages,
       .help = "Maximum queued messages per session (offline and pending)."},
      // Receive Maximum 0 is a Protocol Error (MQTT 5 section 3.2.2.3.3): no QoS 1/2 could flow.
      {.flag = "max-inflight", .field = &Config::max_inflight,
       .help = "QoS 1/2 in-flight window per session, each direction.", .min = 1, .max = 65535},
      {.flag = "max-topic-alias", .field = &Config::max_topic_alias,
       .help = "Topic Alias Maximum announced to MQTT 5 clients; 0 = no aliases.", .min = 0,
       .max = 65535},
      {.flag = "max-session-expiry", .field = &Config::max_session_expiry,
       .help = "Cap in seconds on the Session Expiry Interval clients may request."},
      {.flag = "max-keep-alive", .field = &Config::max_keep_alive,
       .help = "Cap in seconds on client keep-alive; 0 = accept the client's value."},
      {.flag = "connect-timeout-ms", .field = &Config::connect_timeout_ms,
       .help = "CONNECT must arrive within this many milliseconds of accepting.", .min = 1,
       .max = kU32Max},
      {.flag = "retry-interval-ms", .field = &Config::retry_interval_ms,
       .help = "Resend unacknowledged QoS 1/2 messages after this many ms (MQTT 3.x only).",
       .min = 1, .max = kU32Max},
      {.flag = "shared-subscription-strategy", .field = &Config::shared_subscription_strategy,
       .help = "How a shared subscription picks a member.",
       .choices = {"round_robin", "random", "hash_client_id"}},
      {.flag = "sys-interval", .field = &Config::sys_interval_s,
       .help = "Seconds between $SYS topic updates; 0 = off."},
      // --- overload protection (docs/security.md)
      {.flag = "max-connections-per-address", .field = &Config::max_connections_per_address,
       .help = "Open connections from one client IP; more are closed at accept; 0 = unlimited."},
      {.flag = "max-accept-rate", .field = &Config::max_accept_rate,
       .help = "Connections accepted per second per listener (the rest wait); 0 = unlimited."},
      {.flag = "max-publish-rate", .field = &Config::max_publish_rate,
       .help = "PUBLISH packets/s per client; above it its reads pause; 0 = unlimited."},
      {.flag = "max-publish-bytes-rate", .field = &Config::max_publish_bytes_rate,
       .help = "PUBLISH topic+payload bytes/s per client (reads pause); 0 = unlimited."},
      {.flag = "max-subscriptions", .field = &Config::max_subscriptions,
       .help = "Subscriptions per client session; more get SUBACK 0x97; 0 = unlimited."},
      {.flag = "max-topic-levels", .field = &Config::max_topic_levels,
       .help = "Levels in a topic name or filter; deeper ones are refused; 0 = unlimited."},
      {.flag = "max-outbound-bytes", .field = &Config::max_outbound_bytes,
       .help = "Unwritten bytes per connection before the slow-consumer policy applies.",
       .min = 1024, .max = kU32Max},
      {.flag = "slow-consumer-policy", .field = &Config::slow_consumer_policy,
       .help = "Over max-outbound-bytes: drop QoS 0 (QoS 1/2 wait in the session) or disconnect.",
       .choices = {"drop", "disconnect"}},
      {.flag = "memory-high-water-mb", .field = &Config::memory_high_water_mb,
       .help = "Message MiB held above which publishes, new sessions are refused; 0 = RAM/4."},
      {.flag = "memory-low-water-percent", .field = &Config::memory_low_water_percent,
       .help = "Publishes are accepted again below this percentage of the high-water mark.",
       .min = 1, .max = 100},
      // --- cluster
      {.flag = "cluster-listen", .field = &Config::cluster_listen,
       .help = "gRPC listener for other nodes."},
      {.flag = "cluster-advertise", .field = &Config::cluster_advertise,
       .help = "host:port other nodes use to reach this one; empty = derived.",
       .host_port_text = true},
      {.flag = "cluster-name", .field = &Config::cluster_name,
       .help = "Nodes only join peers with the same cluster name."},
      {.flag = "cluster-secret", .field = &Config::cluster_secret,
       .help = "Shared secret nodes present to each other; never printed.", .secret = true},
      {.flag = "cluster-secret-file", .field = &Config::cluster_secret_file,
       .help = "File holding the cluster secret (trimmed); overrides cluster-secret."},
      {.flag = "discovery", .field = &Config::discovery,
       .help = "How peers are found: static needs peers, dns and dns-srv need dns-name.",
       .choices = {"none", "static", "dns", "dns-srv"}},
      {.flag = "peers", .field = &Config::peers,
       .help = "Comma-separated host:port list of peers (discovery=static)."},
      {.flag = "dns-name", .field = &Config::dns_name,
       .help = "DNS name whose A/AAAA (discovery=dns) or SRV records (dns-srv) are the peers."},
      {.flag = "dns-server", .field = &Config::dns_server,
       .help = "host:port of the DNS server to ask; empty = system resolver.",
       .host_port_text = true},
      {.flag = "dns-refresh-ms", .field = &Config::dns_refresh_ms,
       .help = "Milliseconds between DNS lookups.", .min = 1, .max = kU32Max},
      {.flag = "failure-timeout", .field = &Config::failure_timeout_ms,
       .help = "Milliseconds without contact before a peer is considered down.", .min = 1,
       .max = kU32Max},
      {.flag = "forward-batch", .field = &Config::forward_batch,
       .help = "Most forwarded messages per frame to a peer.", .min = 1, .max = 65536},
      {.flag = "forward-linger-us", .field = &Config::forward_linger_us,
       .help = "Microseconds the forward writer waits after a busy drain (32+ messages) so the "
               "next frame fills; 0 = never (at a moderate rate it never waits).",
       .min = 0, .max = 100000},
      {.flag = "cluster-tls-cert", .field = &Config::cluster_tls_cert,
       .help = "This node's certificate (PEM) for mutual TLS between nodes; needs key and CA."},
      {.flag = "cluster-tls-key", .field = &Config::cluster_tls_key,
       .help = "Private key (PEM) of cluster-tls-cert."},
      {.flag = "cluster-tls-ca", .field = &Config::cluster_tls_ca,
       .help = "CA (PEM) that every node's certificate must be signed by."},
      {.flag = "cluster-tls-server-name", .field = &Config::cluster_tls_server_name,
       .help = "Name the peers' certificates carry; empty = the dialled host or IP."},
      // --- TLS and WebSocket listeners
      {.flag = "tls-listen", .field = &Config::tls_listen,
       .help = "MQTT over TLS; runs when tls-cert and tls-key are set; \"off\" disables.",
       .allow_off = true},
      {.flag = "tls-cert", .field = &Config::tls_cert, .help = "Server certificate (PEM)."},
      {.flag = "tls-key", .field = &Config::tls_key, .help = "Server private key (PEM)."},
      {.flag = "tls-ca", .field = &Config::tls_ca,
       .help = "CA bundle (PEM) that client certificates are verified against."},
      {.flag = "tls-verify-client", .field = &Config::tls_verify_client,
       .help = "Require a client certificate signed by tls-ca."},
      {.flag = "ws-listen", .field = &Config::ws_listen,
       .help = "MQTT over WebSocket (path /mqtt), e.g. 0.0.0.0:8083; \"off\" disables.",
       .allow_off = true},
      {.flag = "wss-listen", .field = &Config::wss_listen,
       .help = "MQTT over secure WebSocket; runs when tls-cert and tls-key are set.",
       .allow_off = true},
      // --- HTTP
      {.flag = "http-listen", .field = &Config::http_listen,
       .help = "HTTP listener for /metrics, /healthz and the admin API; \"off\" disables.",
       .allow_off = true},
      {.flag = "http-api-token", .field = &Config::http_api_token,
       .help = "Bearer token required by /api/v1 (Authorization: Bearer ...); never printed.",
       .secret = true},
      // --- authentication and authorization
      {.flag = "password-file", .field = &Config::password_file,
       .help = "Password file (meshmq passwd FILE USER); anonymous clients are then refused."},
      {.flag = "acl-file", .field = &Config::acl_file,
       .help = "ACL file: allow/deny rules for publish and subscribe (docs/security.md)."},
      {.flag = "allow-anonymous", .field = &Config::allow_anonymous,
       .help = "Clients without a user name: auto = allowed only without a password file.",
       .choices = {"auto", "true", "false"}},
      {.flag = "auth-http-url", .field = &Config::auth_http_url,
       .help = "HTTP service deciding logins not in the password file (docs/extending.md)."},
      {.flag = "acl-http-url", .field = &Config::acl_http_url,
       .help = "HTTP service deciding publish/subscribe the ACL file has no rule for."},
      {.flag = "auth-http-timeout-ms", .field = &Config::auth_http_timeout_ms,
       .help = "Timeout of one HTTP auth/ACL request, connect included.", .min = 1,
       .max = 600000},
      {.flag = "auth-http-cache-ttl-ms", .field = &Config::auth_http_cache_ttl_ms,
       .help = "How long HTTP auth/ACL decisions (allow and deny) are cached; 0 = no cache."},
      {.flag = "auth-http-failure-policy", .field = &Config::auth_http_failure_policy,
       .help = "Decision when the HTTP auth service fails or times out.",
       .choices = {"deny", "allow"}},
      {.flag = "auth-http-max-concurrency", .field = &Config::auth_http_max_concurrency,
       .help = "HTTP auth/ACL requests in flight at once; more wait in a queue.", .min = 1,
       .max = 1024},
      // --- bridges
      {.flag = "bridges", .field = &Config::bridges,
       .help = "MQTT bridges to other brokers: a JSON array (docs/extending.md).",
       .secret = true},
      // --- storage
      {.flag = "storage", .field = &Config::storage,
       .help = "Session and retained-message store; rocksdb needs data-dir.",
       .choices = {"memory", "rocksdb"}},
      {.flag = "data-dir", .field = &Config::data_dir,
       .help = "Directory for on-disk storage."},
      // Every setting writes the log before an ack leaves, so acked messages survive kill -9;
      // the setting only decides what a power failure can take (docs/storage.md).
      {.flag = "storage-sync", .field = &Config::storage_sync,
       .help = "When the store's log is fsynced: always (each batch), periodic, or none (OS).",
       .choices = {"none", "periodic", "always"}},
      {.flag = "storage-sync-interval-ms", .field = &Config::storage_sync_interval_ms,
       .help = "Milliseconds between log fsyncs with storage-sync=periodic.", .min = 10,
       .max = 3600000},
      // Acks wait for the commit either way; the delay lets messages acked meanwhile go unwritten.
      {.flag = "storage-commit-delay-us", .field = &Config::storage_commit_delay_us,
       .help = "Microseconds a busy shard may hold its group commit (and the acks behind it); "
               "0 = commit every turn.",
       .min = 0, .max = 100000},
      // --- operations
      {.flag = "drain-timeout-ms", .field = &Config::drain_timeout_ms,
       .help = "Longest graceful shutdown after SIGTERM before the process exits anyway.",
       .min = 100, .max = kU32Max},
      {.flag = "trace-clients", .field = &Config::trace_clients,
       .help = "Log every packet in and out (at info) of clients whose id starts with this."},
      // --- testing aids
      {.flag = "debug-fault-injection", .field = &Config::debug_fault_injection,
       .help = "Testing only: publishing to \"$meshmq/debug/throw\" throws in the handler."},
  };
  // clang-format on
  return *kTable;
}

std::string Transform(absl::string_view flag, bool upper) {
  std::string out(flag);
  for (char& c : out) {
    if (c == '-') c = '_';
    if (upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

std::span<const Option> Options() { return Table(); }

const Option* FindOptionByFlag(absl::string_view flag) {
  for (const Option& option : Table()) {
    if (option.flag == flag) return &option;
  }
  return nullptr;
}

const Option* FindOptionByKey(absl::string_view key) {
  for (const Option& option : Table()) {
    if (JsonKey(option) == key) return &option;
  }
  return nullptr;
}

std::string EnvName(const Option& option) {
  return std::string(kEnvPrefix) + Transform(option.flag, /*upper=*/true);
}

std::string JsonKey(const Option& option) { return Transform(option.flag, /*upper=*/false); }

size_t IndexOf(const Option& option) { return static_cast<size_t>(&option - Table().data()); }

}  // namespace meshmq::config::internal
