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
    claim.token = ++next_token_;
    auto [it, inserted] = owners_.try_emplace(client_id, Owner{shard, claim.token});
    if (!inserted) {
      claim.previous_shard = it->second.shard;
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
    return it == owners_.end() ? -1 : it->second.shard;
  }
  size_t size() const {
    absl::MutexLock lock(&mu_);
    return owners_.size();
  }

 private:
  struct Owner {
    int shard;
    uint64_t token;
  };
  mutable absl::Mutex mu_;
  uint64_t next_token_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, Owner> owners_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meshmq::broker
