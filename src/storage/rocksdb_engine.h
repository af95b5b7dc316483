// KvEngine on RocksDB (Debian librocksdb-dev). Only this file and its .cc include RocksDB.
//
// Durability (docs/storage.md): every Write goes to RocksDB's write-ahead log before it returns,
// so it survives a crash of the process. Whether it also survives a power failure depends on
// SyncMode: kAlways fsyncs the log in each Write; kPeriodic fsyncs it every sync_interval_ms from
// a background thread; kNone leaves it to the kernel's writeback.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "storage/kv_engine.h"

namespace rocksdb {
class DB;
}

namespace meshmq::storage {

enum class SyncMode { kNone, kPeriodic, kAlways };

struct RocksDbOptions {
  std::string path;
  SyncMode sync = SyncMode::kPeriodic;
  int sync_interval_ms = 1000;
};

class RocksDbEngine final : public KvEngine {
 public:
  // Creates the directory's database if missing.
  static absl::StatusOr<std::unique_ptr<RocksDbEngine>> Open(const RocksDbOptions& options);
  ~RocksDbEngine() override;

  std::unique_ptr<KvBatch> NewBatch() const override;
  absl::Status Write(KvBatch& batch) override;
  absl::Status Scan(std::string_view prefix,
                    const std::function<void(std::string_view, std::string_view)>& fn) override;

 private:
  RocksDbEngine(RocksDbOptions options, std::unique_ptr<rocksdb::DB> db);
  void SyncLoop();

  const RocksDbOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  bool stop_ = false;  // guarded by sync_mu_
  std::thread sync_thread_;  // kPeriodic only
};

}  // namespace meshmq::storage
