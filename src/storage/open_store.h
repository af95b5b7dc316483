// Opens the store chosen by the configuration (src/app calls this once at start).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "storage/rocksdb_engine.h"
#include "storage/store.h"

namespace meshmq::storage {

// "none" | "periodic" | "always" (the --storage-sync values).
absl::StatusOr<SyncMode> ParseSyncMode(const std::string& text);

// A Store over RocksDB in `data_dir`, with one batch per shard.
absl::StatusOr<std::unique_ptr<Store>> OpenRocksDbStore(const std::string& data_dir, SyncMode sync,
                                                        int sync_interval_ms, int shards);

}  // namespace meshmq::storage
