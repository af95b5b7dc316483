// Building Messages from what clients send.
#pragma once

#include "broker/message.h"
#include "codec/packets.h"

namespace meshmq::broker {

// The properties a PUBLISH or will carries that subscribers receive unchanged [MQTT-3.3.2-17..20].
codec::Properties PassThroughProperties(const codec::Properties& in);

// A message from a client's PUBLISH (topic already resolved from an alias).
// `qos` >= 0 replaces the PUBLISH's QoS (a publish hook changed it).
MessagePtr MessageFromPublish(codec::Publish& publish, const std::string& client_id,
                              const std::string& node_id, int qos = -1);

}  // namespace meshmq::broker
