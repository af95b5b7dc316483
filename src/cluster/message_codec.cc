#include "cluster/message_codec.h"

#include <memory>
#include <string>
#include <utility>

namespace meshmq::cluster {

void EncodeMessage(const broker::Message& msg, v1::Message* out) {
  out->set_topic(msg.topic);
  out->set_payload(msg.payload.data(), msg.payload.size());
  out->set_qos(msg.qos);
  out->set_retain(msg.retain);
  const codec::Properties& p = msg.props();
  if (p.payload_format_indicator) out->set_payload_format_indicator(*p.payload_format_indicator);
  if (p.content_type) out->set_content_type(*p.content_type);
  if (p.response_topic) out->set_response_topic(*p.response_topic);
  if (p.correlation_data) out->set_correlation_data(*p.correlation_data);
  for (const auto& [key, value] : p.user_properties) {
    v1::UserProperty* up = out->add_user_properties();
    up->set_key(key);
    up->set_value(value);
  }
  if (msg.expiry_at_ms) out->set_expiry_at_ms(*msg.expiry_at_ms);
  out->set_origin_client_id(msg.origin_client_id);
  out->set_origin_node(msg.origin_node);
  out->set_timestamp_ms(msg.timestamp_ms);
  out->set_origin_seq(msg.origin_seq);
}

broker::MessagePtr DecodeMessage(v1::Message&& in) {
  auto msg = std::make_shared<broker::Message>();
  msg->topic = std::move(*in.mutable_topic());
  msg->payload = codec::SharedBytes(std::move(*in.mutable_payload()));
  msg->qos = static_cast<uint8_t>(in.qos() > 2 ? 2 : in.qos());
  msg->retain = in.retain();
  codec::Properties p;
  if (in.has_payload_format_indicator()) {
    p.payload_format_indicator = static_cast<uint8_t>(in.payload_format_indicator());
  }
  if (in.has_content_type()) p.content_type = std::move(*in.mutable_content_type());
  if (in.has_response_topic()) p.response_topic = std::move(*in.mutable_response_topic());
  if (in.has_correlation_data()) p.correlation_data = std::move(*in.mutable_correlation_data());
  for (v1::UserProperty& up : *in.mutable_user_properties()) {
    p.user_properties.emplace_back(std::move(*up.mutable_key()), std::move(*up.mutable_value()));
  }
  msg->set_properties(std::move(p));
  if (in.has_expiry_at_ms()) msg->expiry_at_ms = in.expiry_at_ms();
  msg->origin_client_id = std::move(*in.mutable_origin_client_id());
  msg->origin_node = std::move(*in.mutable_origin_node());
  msg->timestamp_ms = in.timestamp_ms();
  msg->origin_seq = in.origin_seq();
  return msg;
}

}  // namespace meshmq::cluster
