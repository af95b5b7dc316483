#include "auth/decision_cache.h"

#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace meshmq::auth {

DecisionCache::DecisionCache(Clock::duration ttl, size_t max_entries)
    : ttl_(ttl), max_per_stripe_(std::max<size_t>(1, max_entries / kStripes)) {}

DecisionCache::Stripe& DecisionCache::StripeFor(std::string_view key) {
  const size_t h = absl::Hash<absl::string_view>{}(absl::string_view(key.data(), key.size()));
  return stripes_[h % kStripes];
}

std::optional<Decision> DecisionCache::Find(std::string_view key, Clock::time_point now) {
  if (!enabled()) return std::nullopt;
  Stripe& s = StripeFor(key);
  absl::MutexLock lock(&s.mu);
  auto it = s.map.find(absl::string_view(key.data(), key.size()));
  if (it == s.map.end()) return std::nullopt;
  if (it->second.expires <= now) {
    s.map.erase(it);
    return std::nullopt;
  }
  return it->second.decision;
}

void DecisionCache::Put(std::string key, Decision decision, Clock::time_point now) {
  if (!enabled()) return;
  Stripe& s = StripeFor(key);
  absl::MutexLock lock(&s.mu);
  if (s.map.size() >= max_per_stripe_ && !s.map.contains(key)) {
    for (auto it = s.map.begin(); it != s.map.end();) {
      if (it->second.expires <= now) {
        s.map.erase(it++);
      } else {
        ++it;
      }
    }
    if (s.map.size() >= max_per_stripe_) s.map.clear();
  }
  s.map.insert_or_assign(std::move(key), Entry{decision, now + ttl_});
}

size_t DecisionCache::size() const {
  size_t n = 0;
  for (const Stripe& s : stripes_) {
    absl::MutexLock lock(&s.mu);
    n += s.map.size();
  }
  return n;
}

}  // namespace meshmq::auth
