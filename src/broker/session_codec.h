// SessionState <-> bytes, for moving a session to another node (takeover) and for storage.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "broker/session.h"

namespace meshmq::broker {

std::string EncodeSessionState(const SessionState& state);
// nullopt when the bytes are not a session state this version understands.
std::optional<SessionState> DecodeSessionState(const std::string& bytes);

// One delivery and its message in the same encoding (the store keeps queued, in-flight and
// retained messages this way). store_seq is not part of it.
void AppendDelivery(const Delivery& delivery, std::string& out);
std::optional<Delivery> DecodeDelivery(std::string_view bytes);

}  // namespace meshmq::broker
