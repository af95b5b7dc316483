#include "storage/memory_engine.h"

#include <optional>
#include <vector>

namespace meshmq::storage {

namespace {

class MemoryBatch final : public KvBatch {
 public:
  struct Op {
    std::string key;
    std::optional<std::string> value;  // nullopt = delete
    std::optional<std::string> range_end;  // set = delete [key, range_end)
  };
  void Put(std::string_view key, std::string_view value) override {
    ops_.push_back({std::string(key), std::string(value), std::nullopt});
  }
  void Delete(std::string_view key) override { ops_.push_back({std::string(key), {}, {}}); }
  void DeleteRange(std::string_view begin, std::string_view end) override {
    ops_.push_back({std::string(begin), {}, std::string(end)});
  }
  int Count() const override { return static_cast<int>(ops_.size()); }
  void Clear() override { ops_.clear(); }
  const std::vector<Op>& ops() const { return ops_; }

 private:
  std::vector<Op> ops_;
};

}  // namespace

std::unique_ptr<KvBatch> MemoryEngine::NewBatch() const { return std::make_unique<MemoryBatch>(); }

absl::Status MemoryEngine::Write(KvBatch& batch) {
  auto& b = static_cast<MemoryBatch&>(batch);
  absl::MutexLock lock(&mu_);
  for (const auto& op : b.ops()) {
    if (op.value) {
      data_[op.key] = *op.value;
    } else if (op.range_end) {
      data_.erase(data_.lower_bound(op.key), data_.lower_bound(*op.range_end));
    } else {
      data_.erase(op.key);
    }
  }
  ++writes_;
  b.Clear();
  return absl::OkStatus();
}

absl::Status MemoryEngine::Scan(std::string_view prefix,
                                const std::function<void(std::string_view, std::string_view)>& fn) {
  absl::MutexLock lock(&mu_);
  for (auto it = data_.lower_bound(prefix); it != data_.end() && it->first.starts_with(prefix);
       ++it) {
    fn(it->first, it->second);
  }
  return absl::OkStatus();
}

size_t MemoryEngine::size() const {
  absl::MutexLock lock(&mu_);
  return data_.size();
}

int MemoryEngine::writes() const {
  absl::MutexLock lock(&mu_);
  return writes_;
}

}  // namespace meshmq::storage
