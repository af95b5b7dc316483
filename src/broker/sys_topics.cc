// $SYS/broker/... topics, published as retained messages every sys_interval_s seconds.
#include <string>

#include <boost/asio/post.hpp>

#include "broker/broker.h"

namespace meshmq::broker {

void Broker::StartSysTimer() {
  if (options_.sys_interval_s == 0) return;
  sys_timer_ = std::make_unique<boost::asio::steady_timer>(*contexts_[0]);
  boost::asio::post(*contexts_[0], [this] { PublishSys(); });  // shard 0's thread owns it
}

void Broker::PublishSys() {
  StatsSnapshot s = Stats();
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                  started_at_).count();
  uint64_t received = s.messages_received[0] + s.messages_received[1] + s.messages_received[2];
  uint64_t sent = s.messages_sent[0] + s.messages_sent[1] + s.messages_sent[2];
  const std::pair<const char*, std::string> values[] = {
      {"$SYS/broker/version", std::string("meshmq version ") + MESHMQ_VERSION},
      {"$SYS/broker/uptime", std::to_string(uptime) + " seconds"},
      {"$SYS/broker/clients/connected", std::to_string(s.connections_current)},
      {"$SYS/broker/clients/total", std::to_string(s.sessions)},
      {"$SYS/broker/clients/disconnected", std::to_string(s.sessions_offline)},
      {"$SYS/broker/messages/received", std::to_string(received)},
      {"$SYS/broker/messages/sent", std::to_string(sent)},
      {"$SYS/broker/bytes/received", std::to_string(s.bytes_received)},
      {"$SYS/broker/bytes/sent", std::to_string(s.bytes_sent)},
      {"$SYS/broker/subscriptions/count", std::to_string(s.subscriptions + s.shared_subscriptions)},
      {"$SYS/broker/retained messages/count", std::to_string(s.retained)},
  };
  for (const auto& [topic, value] : values) {
    auto msg = std::make_shared<Message>();
    msg->topic = topic;
    msg->payload = codec::SharedBytes(value);
    msg->retain = true;
    msg->origin_node = options_.node_id;
    msg->timestamp_ms = NowMs();
    retained_.Set(msg);  // node-local: every node has its own $SYS tree
    RouteScope scope;
    scope.include_remote = false;
    shards_[0]->Route(msg, scope);
  }
  sys_timer_->expires_after(std::chrono::seconds(options_.sys_interval_s));
  sys_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopping_) PublishSys();
  });
}

}  // namespace meshmq::broker
