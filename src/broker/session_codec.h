// SessionState <-> bytes, for moving a session to another node (takeover) and for storage.
#pragma once

#include <optional>
#include <string>

#include "broker/session.h"

namespace meshmq::broker {

std::string EncodeSessionState(const SessionState& state);
// nullopt when the bytes are not a session state this version understands.
std::optional<SessionState> DecodeSessionState(const std::string& bytes);

}  // namespace meshmq::broker
