// broker::Message <-> proto Message. Only the fields that travel between nodes: the v5 properties
// that pass through to subscribers unchanged, the absolute expiry and the origin. Pure functions,
// any thread.
#pragma once

#include "broker/message.h"
#include "cluster.pb.h"

namespace meshmq::cluster {

void EncodeMessage(const broker::Message& msg, v1::Message* out);
// The payload keeps the proto's bytes alive without a further copy when `in` is an rvalue.
broker::MessagePtr DecodeMessage(v1::Message&& in);

}  // namespace meshmq::cluster
