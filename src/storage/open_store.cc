#include "storage/open_store.h"

namespace meshmq::storage {

absl::StatusOr<SyncMode> ParseSyncMode(const std::string& text) {
  if (text == "none") return SyncMode::kNone;
  if (text == "periodic") return SyncMode::kPeriodic;
  if (text == "always") return SyncMode::kAlways;
  return absl::InvalidArgumentError("storage-sync: \"" + text + "\" is not none|periodic|always");
}

absl::StatusOr<std::unique_ptr<Store>> OpenRocksDbStore(const std::string& data_dir, SyncMode sync,
                                                        int sync_interval_ms, int shards) {
  RocksDbOptions options;
  options.path = data_dir;
  options.sync = sync;
  options.sync_interval_ms = sync_interval_ms;
  auto engine = RocksDbEngine::Open(options);
  if (!engine.ok()) return engine.status();
  return std::make_unique<Store>(std::move(*engine), shards);
}

}  // namespace meshmq::storage
