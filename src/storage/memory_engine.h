// KvEngine in RAM: an ordered map under a mutex. Loses everything with the process; used to test
// the store's key layout and reload logic without a disk.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "storage/kv_engine.h"

namespace meshmq::storage {

class MemoryEngine final : public KvEngine {
 public:
  std::unique_ptr<KvBatch> NewBatch() const override;
  absl::Status Write(KvBatch& batch) override;
  absl::Status Scan(std::string_view prefix,
                    const std::function<void(std::string_view, std::string_view)>& fn) override;
  size_t size() const;
  int writes() const;  // batches written (tests check the batching)

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, std::string, std::less<>> data_ ABSL_GUARDED_BY(mu_);
  int writes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace meshmq::storage
