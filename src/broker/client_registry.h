// Which shard holds the session of each client id on this node. Touched on CONNECT and session
// end only (never on the publish path), so one mutex is fine here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "broker/string_block_map.h"

namespace meshmq::broker {

class ClientRegistry {
 public:
  struct Claim {
    int previous_shard = -1;  // shard that held the session before, -1 = none
    uint64_t token = 0;       // identifies this claim; later claims supersede it
  };

  // Makes `shard` the owner of `client_id`.
  Claim Acquire(const std::string& client_id, int shard) {
    absl::MutexLock lock(&mu_);
    Claim claim;
    do {
      claim.token = ++next_token_ & kTokenMask;
    } while (claim.token == 0);  // 0 is "no claim" (Session::registry_token)
    if (std::optional<Owner> previous = owners_.Find(client_id)) {
      claim.previous_shard = static_cast<int>(previous->shard);
    }
    owners_.Assign(client_id, Owner(shard, claim.token));
    return claim;
  }
  bool IsOwner(const std::string& client_id, uint64_t token) const {
    absl::MutexLock lock(&mu_);
    std::optional<Owner> owner = owners_.Find(client_id);
    return owner && owner->token == token;
  }
  // Forgets the client id if `token` still owns it.
  void Release(const std::string& client_id, uint64_t token) {
    absl::MutexLock lock(&mu_);
    std::optional<Owner> owner = owners_.Find(client_id);
    if (owner && owner->token == token) owners_.Erase(client_id);
  }
  int ShardOf(const std::string& client_id) const {
    absl::MutexLock lock(&mu_);
    std::optional<Owner> owner = owners_.Find(client_id);
    return owner ? static_cast<int>(owner->shard) : -1;
  }
  size_t size() const {
    absl::MutexLock lock(&mu_);
    return owners_.size();
  }

 private:
  // 8 bytes, kept with the id in one block (StringBlockMap): an 8-byte slot and, for a 12-character
  // id, a 24-byte block per client id of the node (a map with a std::string key had a 48-byte
  // slot). Tokens are compared for equality only; 48 bits of them wrap after 2.8e14 claims.
  struct Owner {
    Owner() : token(0), shard(0) {}
    Owner(int s, uint64_t t) : token(t & kTokenMask), shard(static_cast<uint16_t>(s)) {}
    uint64_t token : 48;
    uint64_t shard : 16;  // --workers is at most 1024
  };
  static constexpr uint64_t kTokenMask = (uint64_t{1} << 48) - 1;
  mutable absl::Mutex mu_;
  uint64_t next_token_ ABSL_GUARDED_BY(mu_) = 0;
  StringBlockMap<Owner> owners_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meshmq::broker
