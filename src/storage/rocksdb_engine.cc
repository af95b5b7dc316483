#include "storage/rocksdb_engine.h"

#include <filesystem>

#include <rocksdb/db.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

namespace meshmq::storage {

namespace {

rocksdb::Slice S(std::string_view v) { return rocksdb::Slice(v.data(), v.size()); }

class RocksBatch final : public KvBatch {
 public:
  void Put(std::string_view key, std::string_view value) override { batch_.Put(S(key), S(value)); }
  void Delete(std::string_view key) override { batch_.Delete(S(key)); }
  void DeleteRange(std::string_view begin, std::string_view end) override {
    batch_.DeleteRange(S(begin), S(end));
  }
  int Count() const override { return static_cast<int>(batch_.Count()); }
  void Clear() override { batch_.Clear(); }
  rocksdb::WriteBatch& batch() { return batch_; }

 private:
  rocksdb::WriteBatch batch_;
};

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(std::string(what) + ": " + s.ToString());
}

}  // namespace

absl::StatusOr<std::unique_ptr<RocksDbEngine>> RocksDbEngine::Open(const RocksDbOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) return absl::InvalidArgumentError("data-dir " + options.path + ": " + ec.message());
  rocksdb::Options opts;
  opts.create_if_missing = true;
  // The broker's records are small and short-lived (a queued message is deleted once acked):
  // a modest write buffer keeps recovery (WAL replay) short and memory bounded.
  opts.write_buffer_size = 32 << 20;
  // The broker never reads while it runs (only Load at start-up scans), so the memtable need not
  // be sorted on insert: a vector memtable appends each write and sorts once, on RocksDB's flush
  // thread. With the default skip list, finding the insert position of every put and delete took
  // over a third of the shard threads' CPU under QoS 1 load, ahead of every PUBACK; a skip list
  // with insert hints still took a quarter (docs/storage.md).
  opts.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
  opts.allow_concurrent_memtable_write = false;  // required by the vector memtable
  opts.max_background_jobs = 2;
  opts.keep_log_file_num = 3;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(opts, options.path, &raw);
  if (!s.ok()) return FromRocks(s, "opening RocksDB in " + options.path);
  return std::unique_ptr<RocksDbEngine>(
      new RocksDbEngine(options, std::unique_ptr<rocksdb::DB>(raw)));
}

RocksDbEngine::RocksDbEngine(RocksDbOptions options, std::unique_ptr<rocksdb::DB> db)
    : options_(std::move(options)), db_(std::move(db)) {
  if (options_.sync == SyncMode::kPeriodic) sync_thread_ = std::thread([this] { SyncLoop(); });
}

RocksDbEngine::~RocksDbEngine() {
  {
    std::lock_guard lock(sync_mu_);
    stop_ = true;
  }
  sync_cv_.notify_all();
  if (sync_thread_.joinable()) sync_thread_.join();
  if (db_) {
    db_->SyncWAL();  // a clean stop leaves nothing to the kernel, whatever the mode
    db_->Close();
  }
}

void RocksDbEngine::SyncLoop() {
  std::unique_lock lock(sync_mu_);
  while (!stop_) {
    sync_cv_.wait_for(lock, std::chrono::milliseconds(options_.sync_interval_ms));
    if (stop_) break;
    lock.unlock();
    rocksdb::Status s = db_->SyncWAL();
    if (!s.ok()) spdlog::error("storage: syncing the RocksDB log failed: {}", s.ToString());
    lock.lock();
  }
}

std::unique_ptr<KvBatch> RocksDbEngine::NewBatch() const { return std::make_unique<RocksBatch>(); }

absl::Status RocksDbEngine::Write(KvBatch& batch) {
  auto& b = static_cast<RocksBatch&>(batch);
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync == SyncMode::kAlways;
  rocksdb::Status s = db_->Write(wo, &b.batch());
  b.Clear();
  return FromRocks(s, "RocksDB write");
}

absl::Status RocksDbEngine::Scan(
    std::string_view prefix, const std::function<void(std::string_view, std::string_view)>& fn) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(S(prefix)); it->Valid() && it->key().starts_with(S(prefix)); it->Next()) {
    fn(std::string_view(it->key().data(), it->key().size()),
       std::string_view(it->value().data(), it->value().size()));
  }
  return FromRocks(it->status(), "RocksDB scan");
}

}  // namespace meshmq::storage
