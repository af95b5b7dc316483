// Who is asking, as the broker knows it at CONNECT time, and what they ask to do.
//
// Plain values with views into the caller's strings; valid only for the duration of the call.
#pragma once

#include <string_view>

namespace meshmq::auth {

struct ClientInfo {
  std::string_view username;  // empty when has_username is false
  bool has_username = false;  // MQTT distinguishes "no User Name" from an empty one
  std::string_view client_id;
  std::string_view address;  // peer IP as text ("127.0.0.1", "::1"); no port, no brackets
};

enum class Action { kPublish, kSubscribe };

}  // namespace meshmq::auth
