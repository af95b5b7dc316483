#include "cluster/cluster_state.h"

namespace meshmq::cluster {

uint64_t FilterHash(std::string_view filter) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : filter) {
    h ^= c;
    h *= 1099511628211ull;
  }
  // splitmix64 finaliser: spreads FNV's weak low bits so XOR-combining stays collision-resistant.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

bool RouteSet::Add(const std::string& filter) {
  if (!filters_.insert(filter).second) return false;
  digest_ ^= FilterHash(filter);
  return true;
}

bool RouteSet::Remove(const std::string& filter) {
  if (filters_.erase(filter) == 0) return false;
  digest_ ^= FilterHash(filter);
  return true;
}

void RouteSet::Replace(std::vector<std::string> filters, uint64_t seq) {
  filters_.clear();
  digest_ = 0;
  for (std::string& f : filters) Add(f);
  seq_ = seq;
}

bool ForwardBuffer::Push(Entry entry) {
  if (bytes_ + entry.bytes > capacity_) return false;
  entry.seq = next_seq_++;
  bytes_ += entry.bytes;
  entries_.push_back(std::move(entry));
  return true;
}

void ForwardBuffer::TakeUnsent(size_t max, std::vector<Taken>* out) {
  for (size_t taken = 0; send_pos_ < entries_.size() && taken < max; ++taken) {
    Entry& e = entries_[send_pos_++];
    if (e.sent_once) ++resent_;
    e.sent_once = true;
    const bool keep = e.msg != nullptr && e.msg->qos > 0;
    out->push_back({e.seq, keep ? e.msg : std::move(e.msg), e.to_subscribers, e.extra});
  }
}

std::vector<int64_t> ForwardBuffer::Ack(uint64_t acked,
                                        std::vector<broker::MessagePtr>* released) {
  std::vector<int64_t> queued_at;
  while (!entries_.empty() && entries_.front().seq <= acked) {
    queued_at.push_back(entries_.front().queued_at_us);
    if (released != nullptr) released->push_back(std::move(entries_.front().msg));
    bytes_ -= entries_.front().bytes;
    entries_.pop_front();
    if (send_pos_ > 0) --send_pos_;
  }
  return queued_at;
}

void ForwardBuffer::Rewind() {
  std::deque<Entry> kept;
  bytes_ = 0;
  for (Entry& e : entries_) {
    if (e.sent_once && (!e.msg || e.msg->qos == 0)) continue;  // best effort: never resent
    bytes_ += e.bytes;
    kept.push_back(std::move(e));
  }
  entries_ = std::move(kept);
  send_pos_ = 0;
}

bool ReceiveTracker::Accept(uint64_t incarnation, uint64_t seq) {
  if (incarnation != incarnation_) {
    incarnation_ = incarnation;
    max_seen_ = 0;
    pending_.clear();
  }
  if (seq <= max_seen_) return false;
  max_seen_ = seq;
  pending_.push_back({seq, false});
  return true;
}

void ReceiveTracker::Done(uint64_t incarnation, uint64_t seq) {
  if (incarnation != incarnation_) return;
  auto it = std::lower_bound(pending_.begin(), pending_.end(), seq,
                             [](const Pending& p, uint64_t s) { return p.seq < s; });
  if (it == pending_.end() || it->seq != seq) return;
  it->done = true;
  while (!pending_.empty() && pending_.front().done) pending_.pop_front();
}

void ReceiveTracker::Done(uint64_t incarnation, const std::vector<uint64_t>& seqs) {
  if (incarnation != incarnation_ || seqs.empty()) return;
  auto it = std::lower_bound(pending_.begin(), pending_.end(), seqs.front(),
                             [](const Pending& p, uint64_t s) { return p.seq < s; });
  for (uint64_t seq : seqs) {
    while (it != pending_.end() && it->seq < seq) ++it;
    if (it == pending_.end()) break;
    if (it->seq == seq) it->done = true;
  }
  while (!pending_.empty() && pending_.front().done) pending_.pop_front();
}

uint64_t ReceiveTracker::Acked() const {
  return pending_.empty() ? max_seen_ : pending_.front().seq - 1;
}

bool ClientRegistry::AddRemote(const std::string& node_id, const std::string& client_id,
                               int64_t at_ms, const std::string& self_id) {
  remote_[node_id][client_id] = at_ms;
  auto it = local_.find(client_id);
  if (it == local_.end()) return false;
  if (Version{it->second, self_id} < Version{at_ms, node_id}) {
    local_.erase(it);
    return true;
  }
  return false;
}

void ClientRegistry::RemoveRemote(const std::string& node_id, const std::string& client_id) {
  auto it = remote_.find(node_id);
  if (it != remote_.end()) it->second.erase(client_id);
}

std::optional<ClientRegistry::Version> ClientRegistry::Owner(const std::string& client_id,
                                                             const std::string& self_id) const {
  std::optional<Version> best;
  if (auto it = local_.find(client_id); it != local_.end()) best = Version{it->second, self_id};
  for (const auto& [node, clients] : remote_) {
    auto it = clients.find(client_id);
    if (it == clients.end()) continue;
    Version v{it->second, node};
    if (!best || *best < v) best = v;
  }
  return best;
}

bool RetainedVersions::Offer(const broker::Message& msg) {
  std::pair<int64_t, std::string> v{msg.timestamp_ms, msg.origin_node};
  auto [it, inserted] = versions_.try_emplace(msg.topic, v);
  if (inserted) return true;
  if (!(it->second < v)) return false;
  it->second = std::move(v);
  return true;
}

}  // namespace meshmq::cluster
