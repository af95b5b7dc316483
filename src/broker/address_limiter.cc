#include "broker/address_limiter.h"

namespace meshmq::broker {
namespace {
// Debian's absl has its own string_view type, which the map's heterogeneous lookup wants.
absl::string_view Key(std::string_view s) { return absl::string_view(s.data(), s.size()); }
}  // namespace

bool AddressLimiter::Acquire(std::string_view address) {
  if (!enabled()) return true;
  absl::MutexLock lock(&mu_);
  auto it = open_.find(Key(address));
  if (it == open_.end()) it = open_.emplace(std::string(address), 0).first;
  if (it->second >= limit_) return false;
  ++it->second;
  return true;
}

void AddressLimiter::Release(std::string_view address) {
  if (!enabled()) return;
  absl::MutexLock lock(&mu_);
  auto it = open_.find(Key(address));
  if (it == open_.end()) return;
  if (--it->second == 0) open_.erase(it);
}

uint32_t AddressLimiter::Count(std::string_view address) const {
  absl::MutexLock lock(&mu_);
  auto it = open_.find(Key(address));
  return it == open_.end() ? 0 : it->second;
}

}  // namespace meshmq::broker
