#include "broker/shared_picker.h"

namespace meshmq::broker {
namespace {

struct StrategyName {
  std::string_view name;
  SharedStrategy strategy;
};
constexpr StrategyName kStrategyNames[] = {
    {"round_robin", SharedStrategy::kRoundRobin},
    {"random", SharedStrategy::kRandom},
    {"hash_client_id", SharedStrategy::kHashClientId},
};

}  // namespace

bool ParseSharedStrategy(std::string_view name, SharedStrategy& out) {
  for (const auto& entry : kStrategyNames) {
    if (entry.name == name) {
      out = entry.strategy;
      return true;
    }
  }
  return false;
}

std::string_view SharedStrategyName(SharedStrategy strategy) {
  for (const auto& entry : kStrategyNames) {
    if (entry.strategy == strategy) return entry.name;
  }
  return "unknown";
}

uint64_t Fnv1a64(std::string_view data) {
  uint64_t h = 14695981039346656037ull;  // FNV offset basis
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;  // FNV prime
  }
  return h;
}

SharedPicker::SharedPicker(SharedStrategy strategy, uint64_t seed)
    : strategy_(strategy), rng_(seed) {}

uint64_t SharedPicker::NextRandom() {
  // splitmix64: tiny state, good spread, no allocation; not for cryptography.
  uint64_t z = (rng_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::size_t SharedPicker::Pick(std::size_t member_count, std::string_view publisher_client_id) {
  if (member_count == 0) return 0;
  switch (strategy_) {
    case SharedStrategy::kRoundRobin:
      return static_cast<std::size_t>(next_++ % member_count);
    case SharedStrategy::kRandom:
      return static_cast<std::size_t>(NextRandom() % member_count);
    case SharedStrategy::kHashClientId:
      return static_cast<std::size_t>(Fnv1a64(publisher_client_id) % member_count);
  }
  return 0;
}

}  // namespace meshmq::broker
