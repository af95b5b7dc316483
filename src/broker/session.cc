#include "broker/session.h"

#include <algorithm>
#include <bitset>
#include <iterator>

namespace meshmq::broker {

namespace {

// Position of `id` on the ring of packet ids 1..65535 counted from `from` (0 for `from` itself).
uint16_t RingDistance(uint16_t from, uint16_t id) {
  return static_cast<uint16_t>((id + 65535 - from) % 65535);
}

}  // namespace

uint16_t Session::AllocatePacketId() {
  if (next_packet_id == 0) next_packet_id = 1;
  if (inflight.empty()) inflight_in_id_order = true;
  // Every inflight id lies between the front's and the back's on the ring: an id past the back
  // one (and not yet back around at the front) is free. Same answer as the scan below, which
  // also starts at next_packet_id.
  if (inflight_in_id_order &&
      (inflight.empty() || RingDistance(inflight.front().packet_id, next_packet_id) >
                               RingDistance(inflight.front().packet_id, inflight.back().packet_id))) {
    uint16_t id = next_packet_id;
    next_packet_id = id == 0xFFFF ? 1 : id + 1;
    return id;
  }
  // One pass over the window marks the ids in use, one over the ring finds the first free one:
  // linear even with the whole id space in flight (a lookup per candidate id would be
  // quadratic).
  std::bitset<65536> used;
  for (const OutboundInflight& e : inflight) used.set(e.packet_id);
  for (int tries = 0; tries < 65535; ++tries) {
    uint16_t id = next_packet_id;
    next_packet_id = id == 0xFFFF ? 1 : id + 1;
    if (!used.test(id)) return id;
  }
  return 0;
}

void Session::PushInflight(OutboundInflight entry) {
  if (!inflight.empty() &&
      RingDistance(inflight.front().packet_id, entry.packet_id) <=
          RingDistance(inflight.front().packet_id, inflight.back().packet_id)) {
    inflight_in_id_order = false;  // e.g. a scan found a gap inside the window
  }
  inflight.push_back(std::move(entry));
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
  inflight_in_id_order = true;
  const uint16_t front = inflight.empty() ? 0 : inflight.front().packet_id;
  for (size_t i = 1; i < inflight.size() && inflight_in_id_order; ++i) {
    inflight_in_id_order = RingDistance(front, inflight[i].packet_id) >
                           RingDistance(front, inflight[i - 1].packet_id);
  }
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
