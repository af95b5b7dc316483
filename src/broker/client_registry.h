// Which shard holds the session of each client id on this node. Touched on CONNECT and session
// end only (never on the publish path), so one mutex is fine here.
#pragma once

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

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
    auto [it, inserted] = owners_.try_emplace(client_id, Owner{shard, claim.token});
    if (!inserted) {
      claim.previous_shard = static_cast<int>(it->second.shard);
      it->second = Owner{shard, claim.token};
    }
    return claim;
  }
  bool IsOwner(const std::string& client_id, uint64_t token) const {
    absl::MutexLock lock(&mu_);
    auto it = owners_.find(client_id);
    return it != owners_.end() && it->second.token == token;
  }
  // Forgets the client id if `token` still owns it.
  void Release(const std::string& client_id, uint64_t token) {
    absl::MutexLock lock(&mu_);
    auto it = owners_.find(client_id);
    if (it != owners_.end() && it->second.token == token) owners_.erase(it);
  }
  int ShardOf(const std::string& client_id) const {
    absl::MutexLock lock(&mu_);
    auto it = owners_.find(client_id);
    return it == owners_.end() ? -1 : static_cast<int>(it->second.shard);
  }
  size_t size() const {
    absl::MutexLock lock(&mu_);
    return owners_.size();
  }

 private:
  // 8 bytes (the slot with its string key is 40, not 48: one entry per client id of the node).
  // Tokens are compared for equality only; 48 bits of them wrap after 2.8e14 claims.
  struct Owner {
    Owner(int s, uint64_t t) : token(t & kTokenMask), shard(static_cast<uint16_t>(s)) {}
    uint64_t token : 48;
    uint64_t shard : 16;  // --workers is at most 1024
  };
  static constexpr uint64_t kTokenMask = (uint64_t{1} << 48) - 1;
  mutable absl::Mutex mu_;
  uint64_t next_token_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, Owner> owners_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meshmq::broker
