#include "tools/bench/accounting.h"

#include <bit>

namespace meshmq::bench {
namespace {

// A shared group delivers each message to exactly one member: merge the members' bitmaps, so a
// message that reached two members counts as a duplicate and one that reached none as lost.
uint64_t SharedUnique(uint32_t publisher, const std::vector<std::unique_ptr<BenchClient>>& subs) {
  std::vector<uint64_t> merged;
  for (const auto& sub : subs) {
    auto it = sub->tracker().streams().find(publisher);
    if (it == sub->tracker().streams().end()) continue;
    const auto& seen = it->second.seen;
    if (merged.size() < seen.size()) merged.resize(seen.size(), 0);
    for (size_t i = 0; i < seen.size(); ++i) merged[i] |= seen[i];
  }
  uint64_t unique = 0;
  for (uint64_t word : merged) unique += static_cast<uint64_t>(std::popcount(word));
  return unique;
}

}  // namespace

uint64_t ReceiversPerMessage(const Options& options) {
  switch (options.layout) {
    case Layout::kPairs: return 1;
    case Layout::kShared: return 1;
    case Layout::kFanIn:
    case Layout::kFanOut: return static_cast<uint64_t>(options.subscribers);
  }
  return 1;
}

Totals Account(const Options& options, const std::vector<std::unique_ptr<BenchClient>>& pubs,
               const std::vector<std::unique_ptr<BenchClient>>& subs) {
  Totals t;
  uint64_t receivers = ReceiversPerMessage(options);
  for (const auto& sub : subs) {
    for (const auto& [publisher, stream] : sub->tracker().streams()) {
      t.received += stream.received;
      t.out_of_order += stream.out_of_order;
    }
  }
  for (uint32_t p = 0; p < pubs.size(); ++p) {
    uint64_t sent = pubs[p]->sent();
    t.sent += sent;
    t.expected += sent * receivers;
    uint64_t unique = 0;
    if (options.layout == Layout::kShared) {
      unique = SharedUnique(p, subs);
    } else {
      for (const auto& sub : subs) {
        auto it = sub->tracker().streams().find(p);
        if (it != sub->tracker().streams().end()) unique += it->second.Unique();
      }
    }
    t.unique += unique;
    if (sent * receivers > unique) t.lost += sent * receivers - unique;
  }
  t.duplicates = t.received - t.unique;
  return t;
}

}  // namespace meshmq::bench
