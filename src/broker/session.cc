#include "broker/session.h"

#include <algorithm>
#include <iterator>

namespace meshmq::broker {

uint16_t Session::AllocatePacketId() {
  // At most 65535 ids exist; the inflight window is far smaller, so this loop ends quickly.
  for (int tries = 0; tries < 65536; ++tries) {
    uint16_t id = next_packet_id++;
    if (next_packet_id == 0) next_packet_id = 1;
    if (id != 0 && FindInflight(id) == nullptr) return id;
  }
  return 0;
}

OutboundInflight* Session::FindInflight(uint16_t packet_id) {
  for (auto& entry : inflight) {
    if (entry.packet_id == packet_id) return &entry;
  }
  return nullptr;
}

bool Session::RemoveInflight(uint16_t packet_id) {
  auto it = std::find_if(inflight.begin(), inflight.end(),
                         [&](const OutboundInflight& e) { return e.packet_id == packet_id; });
  if (it == inflight.end()) return false;
  inflight.erase(it);
  return true;
}

SessionState Session::Export() const {
  SessionState state;
  state.client_id = client_id;
  state.owner = owner;
  state.version = version;
  state.expiry_interval_s = expiry_interval_s;
  for (const auto& [filter, sub] : subscriptions) state.subscriptions.push_back(sub);
  state.inflight.assign(inflight.begin(), inflight.end());
  state.queue.assign(queue.begin(), queue.end());
  state.incoming_qos2.assign(incoming_qos2.begin(), incoming_qos2.end());
  state.next_packet_id = next_packet_id;
  if (codec::Will* will = pending_will()) state.pending_will = *will;
  return state;
}

void Session::Import(SessionState state) {
  owner = std::move(state.owner);
  version = state.version;
  expiry_interval_s = state.expiry_interval_s;
  inflight.assign(state.inflight.begin(), state.inflight.end());
  queue.assign(std::make_move_iterator(state.queue.begin()),
               std::make_move_iterator(state.queue.end()));
  incoming_qos2.clear();
  incoming_qos2.insert(state.incoming_qos2.begin(), state.incoming_qos2.end());
  next_packet_id = state.next_packet_id == 0 ? 1 : state.next_packet_id;
  if (state.pending_will) {
    Rare().pending_will = std::make_unique<codec::Will>(std::move(*state.pending_will));
  } else if (rare_) {
    rare_->pending_will.reset();
  }
  StartMoveDedup(*this);
}

}  // namespace meshmq::broker
