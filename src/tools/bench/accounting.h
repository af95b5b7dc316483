// Turns the subscribers' stream records into the run's totals: what was expected from the
// scenario, and how much of it was lost, duplicated or reordered.
//
// Main thread only, after the workers have stopped.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "tools/bench/bench_client.h"
#include "tools/bench/options.h"

namespace meshmq::bench {

struct Totals {
  uint64_t sent = 0;      // PUBLISH packets the publishers wrote
  uint64_t expected = 0;  // deliveries the scenario implies (fan-out: sent x S)
  uint64_t received = 0;  // every delivery, duplicates included
  uint64_t unique = 0;
  uint64_t lost = 0;      // expected - unique, per stream, never negative
  uint64_t duplicates = 0;
  uint64_t out_of_order = 0;
};

// How many subscribers should receive each message of a publisher in this layout.
uint64_t ReceiversPerMessage(const Options& options);

Totals Account(const Options& options, const std::vector<std::unique_ptr<BenchClient>>& pubs,
               const std::vector<std::unique_ptr<BenchClient>>& subs);

}  // namespace meshmq::bench
