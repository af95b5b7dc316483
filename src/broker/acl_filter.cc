// The ACL on the delivery side, through the delivery-ACL hooks (the built-in ACL's
// OnAclGrantsAll / OnAclDeliver, include/meshmq/hooks.h). SUBSCRIBE is refused only when the
// rules let none of the filter's topics through; a filter they let through in part ("#" under
// "deny secret/#") is granted and each message is checked here against the subscriber's identity,
// as Mosquitto does. Filters the rules grant in full skip the per-message check: the common case
// costs one relaxed atomic load per delivery (and nothing without a delivery-ACL hook).
#include "broker/broker.h"
#include "broker/shard.h"

namespace meshmq::broker {

uint64_t Shard::AclAllGeneration(const Session& session, std::string_view filter) {
  HookChain& hooks = broker_.hooks();
  if (!hooks.delivery_acl()) return 0;  // MayDeliver does not look at it
  return hooks.AclScope(HookInfoOf(session), std::string(filter));
}

bool Shard::MayDeliver(const Session& session, const SubOptions& options,
                       std::string_view topic) {
  HookChain& hooks = broker_.hooks();
  if (!hooks.delivery_acl() || options.acl_all_generation == hooks.AclVersion() + 1) return true;
  if (session.owner.superuser) return true;
  // Granted in part, or granted under rules a reload has since replaced: ask per message.
  if (hooks.AclDeliver(HookInfoOf(session), topic) != Decision::kDeny) return true;
  stats_.Drop(DropReason::kNotAuthorized);
  return false;
}

}  // namespace meshmq::broker
