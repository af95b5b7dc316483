// The key-value engine under the store: ordered keys, atomic batches, prefix scans. Two engines
// implement it: RocksDB (on disk, src/storage/rocksdb_engine.h) and an in-RAM map used by tests.
//
// Thread safety: Write and Scan may be called from any thread concurrently; a KvBatch is used by
// one thread at a time (each shard owns its own).
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "absl/status/status.h"

namespace meshmq::storage {

class KvBatch {
 public:
  virtual ~KvBatch() = default;
  virtual void Put(std::string_view key, std::string_view value) = 0;
  virtual void Delete(std::string_view key) = 0;
  // Deletes every key in [begin, end).
  virtual void DeleteRange(std::string_view begin, std::string_view end) = 0;
  virtual int Count() const = 0;  // operations held
  virtual void Clear() = 0;
};

class KvEngine {
 public:
  virtual ~KvEngine() = default;
  virtual std::unique_ptr<KvBatch> NewBatch() const = 0;
  // Applies the batch atomically (all or nothing), then clears it. Durable as the engine was
  // configured (see docs/storage.md: sync modes).
  virtual absl::Status Write(KvBatch& batch) = 0;
  // Calls fn(key, value) for every key starting with `prefix`, in key order.
  virtual absl::Status Scan(std::string_view prefix,
                            const std::function<void(std::string_view, std::string_view)>& fn) = 0;
};

}  // namespace meshmq::storage
