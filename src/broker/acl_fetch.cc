// Asynchronous ACL hooks on the shard (the built-in HTTP ACL among them): verdicts a hook cannot
// give at once are fetched before the packet that needs them is handled. The client's packets keep
// their order: while a fetch is out, everything the client sends queues in pending_ (bounded), and
// the shard thread never waits (docs/extending.md, docs/embedding.md).
#include <boost/asio/post.hpp>

#include "broker/broker.h"
#include "broker/client.h"
#include "broker/shard.h"
#include "codec/topic_rules.h"

namespace meshmq::broker {

std::vector<HookChain::AclQuestion> Client::AclQuestions(const codec::Packet& packet) {
  std::vector<HookChain::AclQuestion> out;
  if (const auto* p = std::get_if<codec::Publish>(&packet)) {
    std::string_view topic = p->topic;
    if (topic.empty() && p->properties.topic_alias) {  // the alias's topic, without changing it
      uint16_t alias = *p->properties.topic_alias;
      if (aliases_ && alias < aliases_->inbound.size()) topic = aliases_->inbound[alias];
    }
    if (topic.empty() || topic.starts_with("$SYS")) return out;  // the handler refuses these
    out.push_back({Action::kPublish, std::string(topic)});
  } else if (const auto* s = std::get_if<codec::Subscribe>(&packet)) {
    for (const auto& request : s->subscriptions) {
      if (!codec::IsValidTopicFilter(request.filter)) continue;  // refused by the handler
      out.push_back({Action::kSubscribe, request.filter});
    }
  }
  return out;
}

bool Client::FetchAcl(std::vector<HookChain::AclQuestion> questions, void (Client::*then)()) {
  HookChain& hooks = shard_.broker().hooks();
  if (!hooks.async_acl() || superuser_ || questions.empty()) return false;
  const uint64_t seq = acl_fetch_seq_ + 1;
  Shard* home = &shard_;
  const uint64_t my_id = id_;
  // Runs on the thread of the last answer: posts the lot to the shard, where the client is looked
  // up by id since it may be gone by then.
  auto done = [home, my_id, seq, then](std::vector<FetchedAcl> verdicts) {
    boost::asio::post(home->io(), [home, my_id, seq, then, verdicts = std::move(verdicts)]() mutable {
      Client* c = home->FindClient(my_id);
      if (c == nullptr || c->acl_fetch_seq_ != seq || c->state_ == State::kClosed) return;
      c->acl_fetched_ = std::make_unique<std::vector<FetchedAcl>>(std::move(verdicts));
      c->acl_waiting_ = false;
      (c->*then)();
    });
  };
  if (!hooks.FetchAcl(HookInfo(), questions, std::move(done))) return false;
  acl_fetch_seq_ = seq;  // the answer is posted, so it cannot arrive before this
  acl_waiting_ = true;
  return true;
}

void Client::Process(codec::Packet&& packet) {
  if (state_ == State::kConnected && shard_.broker().hooks().async_acl() && !superuser_ &&
      FetchAcl(AclQuestions(packet), &Client::DrainAfterFetch)) {
    pending_.push_front(std::move(packet));
    return;
  }
  SafeDispatch(std::move(packet));
}

void Client::DrainAfterFetch() {
  // The packet that waited is first in pending_ and its verdicts are in acl_fetched_.
  if (state_ != State::kConnected || pending_.empty()) return;
  codec::Packet packet = std::move(pending_.front());
  pending_.pop_front();
  SafeDispatch(std::move(packet));
  acl_fetched_.reset();  // verdicts are for that packet only; the hooks' caches serve the next ones
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
