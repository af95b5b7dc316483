#include "app/node.h"

#include <thread>

#include <spdlog/spdlog.h>

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
  return o;
}

Node::Node(config::Config config) : config_(std::move(config)) {
  broker_ = std::make_unique<broker::Broker>(BrokerOptionsFrom(config_));
  mqtt_ = std::make_unique<transport::TcpListener>(*broker_, config_.mqtt_listen.host,
                                                   config_.mqtt_listen.port);
}

Node::~Node() { Stop(); }

absl::Status Node::Start() {
  if (absl::Status s = mqtt_->Listen(); !s.ok()) return s;
  broker_->Start();
  mqtt_->Start();
  spdlog::info("meshmq {} node {} listening for MQTT on {}:{} with {} workers", MESHMQ_VERSION,
               config_.node_id, config_.mqtt_listen.host, mqtt_->port(), broker_->shard_count());
  return absl::OkStatus();
}

void Node::Stop() {
  if (!broker_) return;
  mqtt_->Stop();
  broker_->Stop();
}

}  // namespace meshmq::app
