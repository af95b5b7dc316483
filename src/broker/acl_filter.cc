// The ACL on the delivery side. SUBSCRIBE is refused only when the rules let none of the
// filter's topics through; a filter they let through in part ("#" under "deny secret/#") is
// granted and each message is checked here against the subscriber's identity, as Mosquitto
// does. Filters the rules grant in full skip the per-message check: the common case costs one
// relaxed atomic load per delivery.
#include "auth/acl.h"
#include "auth/auth_service.h"
#include "broker/broker.h"
#include "broker/shard.h"

namespace meshmq::broker {

const auth::Acl* Shard::CurrentAcl(uint64_t* generation) {
  auth::AuthService* service = broker_.auth();
  if (service == nullptr) return nullptr;
  *generation = service->generation();
  if (!acl_ || *generation != acl_generation_) {
    acl_ = service->acl();  // only after a reload: no lock per message
    acl_generation_ = *generation;
  }
  return acl_.get();
}

uint64_t Shard::AclAllGeneration(const Session& session, std::string_view filter) {
  uint64_t generation = 0;
  const auth::Acl* acl = CurrentAcl(&generation);
  if (acl == nullptr) return 0;
  return acl->SubscribeScope(session.Identity(), filter) == auth::Acl::Scope::kAll
             ? generation + 1
             : 0;
}

bool Shard::MayDeliver(const Session& session, const SubOptions& options,
                       std::string_view topic) {
  uint64_t generation = 0;
  const auth::Acl* acl = CurrentAcl(&generation);
  if (acl == nullptr || options.acl_all_generation == generation + 1) return true;
  if (session.owner.superuser) return true;
  // Granted in part, or granted under rules a reload has since replaced: ask per message.
  if (acl->MayReceive(session.Identity(), topic)) return true;
  stats_.Drop(DropReason::kNotAuthorized);
  return false;
}

}  // namespace meshmq::broker
