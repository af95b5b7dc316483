// The HTTP ACL on the shard: verdicts the ACL file and the decision cache cannot give are
// fetched before the packet that needs them is handled. The client's packets keep their order:
// while a fetch is out, everything the client sends queues in pending_ (bounded), and the shard
// thread never waits (docs/extending.md).
#include <atomic>
#include <memory>

#include <boost/asio/post.hpp>

#include "auth/address_range.h"
#include "broker/broker.h"
#include "broker/client.h"
#include "broker/shard.h"
#include "codec/topic_rules.h"

namespace meshmq::broker {

std::optional<bool> Client::LocalVerdict(auth::Action action, std::string_view topic_or_filter) {
  auth::AuthService* service = shard_.broker().auth();
  if (service == nullptr || superuser_) return true;
  uint64_t generation = service->generation();
  AclState& state = Acl();
  if (!state.acl || generation != state.generation) {
    state.acl = service->acl();  // only after a reload: no lock per publish
    state.generation = generation;
  }
  auth::HttpAuthBackend* http = service->http_acl();
  if (http == nullptr) return state.acl->Allowed(Identity(), action, topic_or_filter);
  // Explicit rules of the ACL file win; what they leave open goes to the HTTP service.
  if (std::optional<bool> rule = state.acl->Match(Identity(), action, topic_or_filter)) return rule;
  return http->CachedAcl(Identity(), action, topic_or_filter);
}

std::vector<Client::AclQuery> Client::UndecidedAcl(const codec::Packet& packet) {
  std::vector<AclQuery> out;
  if (state_ != State::kConnected || superuser_) return out;
  auth::AuthService* service = shard_.broker().auth();
  if (service == nullptr || service->http_acl() == nullptr) return out;
  if (const auto* p = std::get_if<codec::Publish>(&packet)) {
    std::string_view topic = p->topic;
    if (topic.empty() && p->properties.topic_alias) {  // the alias's topic, without changing it
      uint16_t alias = *p->properties.topic_alias;
      if (alias < inbound_aliases_.size()) topic = inbound_aliases_[alias];
    }
    if (topic.empty() || topic.starts_with("$SYS")) return out;  // the handler refuses these
    if (!LocalVerdict(auth::Action::kPublish, topic)) {
      out.push_back({auth::Action::kPublish, std::string(topic)});
    }
  } else if (const auto* s = std::get_if<codec::Subscribe>(&packet)) {
    for (const auto& request : s->subscriptions) {
      if (!codec::IsValidTopicFilter(request.filter)) continue;  // refused by the handler
      if (!LocalVerdict(auth::Action::kSubscribe, request.filter)) {
        out.push_back({auth::Action::kSubscribe, request.filter});
      }
    }
  }
  return out;
}

void Client::FetchAcl(std::vector<AclQuery> queries, void (Client::*then)()) {
  struct Fetch {
    std::vector<AclQuery> queries;
    std::vector<char> verdicts;
    std::atomic<size_t> remaining;
  };
  auto fetch = std::make_shared<Fetch>();
  fetch->verdicts.assign(queries.size(), 0);
  fetch->remaining = queries.size();
  fetch->queries = std::move(queries);
  acl_waiting_ = true;
  const uint64_t seq = ++Acl().fetch_seq;
  Shard* home = &shard_;
  const uint64_t my_id = id_;
  auth::HttpAuthBackend* http = shard_.broker().auth()->http_acl();
  const std::string address(auth::PeerIp(remote_address()));
  const auth::ClientInfo who{username_, has_username_, client_id_, address};
  for (size_t i = 0; i < fetch->queries.size(); ++i) {
    const AclQuery& q = fetch->queries[i];
    // Runs on the backend thread: record, and the last answer posts the lot to the shard.
    http->CheckAcl(who, q.action, q.topic, [fetch, i, home, my_id, seq, then](bool allowed) {
      fetch->verdicts[i] = allowed;
      if (fetch->remaining.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
      boost::asio::post(home->io(), [fetch, home, my_id, seq, then] {
        Client* c = home->FindClient(my_id);
        if (c == nullptr || c->Acl().fetch_seq != seq || c->state_ == State::kClosed) return;
        c->Acl().fetched.clear();
        for (size_t k = 0; k < fetch->queries.size(); ++k) {
          std::string key(1, static_cast<char>(fetch->queries[k].action));
          key += fetch->queries[k].topic;
          c->Acl().fetched[key] = fetch->verdicts[k] != 0;
        }
        c->acl_waiting_ = false;
        (c->*then)();
      });
    });
  }
}

void Client::Process(codec::Packet&& packet) {
  std::vector<AclQuery> undecided = UndecidedAcl(packet);
  if (undecided.empty()) {
    SafeDispatch(std::move(packet));
    return;
  }
  pending_.push_front(std::move(packet));
  FetchAcl(std::move(undecided), &Client::DrainAfterFetch);
}

void Client::DrainAfterFetch() {
  // The packet that waited is first in pending_ and its verdicts are in Acl().fetched.
  if (state_ != State::kConnected || pending_.empty()) return;
  codec::Packet packet = std::move(pending_.front());
  pending_.pop_front();
  SafeDispatch(std::move(packet));
  if (acl_state_) acl_state_->fetched.clear();  // verdicts are for that packet only; the cache serves the next ones
  DrainPending();
}

void Client::DrainPending() {
  while (!pending_.empty() && state_ == State::kConnected && !acl_waiting_) {
    codec::Packet packet = std::move(pending_.front());
    pending_.pop_front();
    Process(std::move(packet));
  }
}

}  // namespace meshmq::broker
