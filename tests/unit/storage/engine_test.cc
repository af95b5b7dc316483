// Both KvEngines behave the same: put, delete, range delete, prefix scan in key order, atomic
// batches; RocksDB keeps what was written across a reopen.
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/memory_engine.h"
#include "storage/rocksdb_engine.h"

namespace meshmq::storage {
namespace {

using ::testing::ElementsAre;
using KV = std::pair<std::string, std::string>;

// A directory unique to this process (CTest runs each test in its own process) and test.
std::string TempDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("meshmq-storage-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::remove_all(dir);
  return dir.string();
}

std::vector<KV> ScanAll(KvEngine& e, std::string_view prefix) {
  std::vector<KV> out;
  EXPECT_TRUE(e.Scan(prefix, [&](auto k, auto v) { out.emplace_back(k, v); }).ok());
  return out;
}

class EngineTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "memory") {
      engine_ = std::make_unique<MemoryEngine>();
      return;
    }
    dir_ = TempDir("engine");
    RocksDbOptions options;
    options.path = dir_;
    auto opened = RocksDbEngine::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.status();
    engine_ = std::move(*opened);
  }
  void TearDown() override {
    engine_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<KvEngine> engine_;
  std::string dir_;
};

TEST_P(EngineTest, PutDeleteAndScanInKeyOrder) {
  auto b = engine_->NewBatch();
  b->Put("a2", "two");
  b->Put("a1", "one");
  b->Put("b1", "other");
  b->Put(std::string("a\0z", 3), "nul");
  EXPECT_EQ(b->Count(), 4);
  ASSERT_TRUE(engine_->Write(*b).ok());
  EXPECT_EQ(b->Count(), 0);  // written batches are cleared for reuse
  EXPECT_THAT(ScanAll(*engine_, "a"),
              ElementsAre(KV(std::string("a\0z", 3), "nul"), KV("a1", "one"), KV("a2", "two")));
  b->Delete("a1");
  b->Put("a2", "TWO");
  ASSERT_TRUE(engine_->Write(*b).ok());
  EXPECT_THAT(ScanAll(*engine_, "a"),
              ElementsAre(KV(std::string("a\0z", 3), "nul"), KV("a2", "TWO")));
}

TEST_P(EngineTest, RangeDeleteRemovesOnlyTheRange) {
  using namespace std::string_literals;
  auto b = engine_->NewBatch();
  for (const std::string& k : {"Mc\0a"s, "Mc\0b"s, "Mc\1"s, "Mcd\0a"s, "Mb\0a"s}) b->Put(k, "v");
  ASSERT_TRUE(engine_->Write(*b).ok());
  b->DeleteRange("Mc\0"s, "Mc\1"s);
  ASSERT_TRUE(engine_->Write(*b).ok());
  EXPECT_THAT(ScanAll(*engine_, "M"),
              ElementsAre(KV("Mb\0a"s, "v"), KV("Mc\1"s, "v"), KV("Mcd\0a"s, "v")));
}

TEST_P(EngineTest, UnwrittenBatchIsInvisible) {
  auto b = engine_->NewBatch();
  b->Put("k", "v");
  EXPECT_TRUE(ScanAll(*engine_, "k").empty());
  ASSERT_TRUE(engine_->Write(*b).ok());
  EXPECT_EQ(ScanAll(*engine_, "k").size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Engines, EngineTest, ::testing::Values("memory", "rocksdb"));

TEST(RocksDbEngineTest, DataSurvivesReopenInEverySyncMode) {
  for (SyncMode mode : {SyncMode::kNone, SyncMode::kPeriodic, SyncMode::kAlways}) {
    std::string dir = TempDir("reopen");
    RocksDbOptions options;
    options.path = dir;
    options.sync = mode;
    options.sync_interval_ms = 10;
    {
      auto e = RocksDbEngine::Open(options);
      ASSERT_TRUE(e.ok()) << e.status();
      auto b = (*e)->NewBatch();
      b->Put("k", "v" + std::to_string(static_cast<int>(mode)));
      ASSERT_TRUE((*e)->Write(*b).ok());
    }
    auto e = RocksDbEngine::Open(options);
    ASSERT_TRUE(e.ok()) << e.status();
    EXPECT_THAT(ScanAll(**e, "k"), ElementsAre(KV("k", "v" + std::to_string(static_cast<int>(mode)))));
    e->reset();
    std::filesystem::remove_all(dir);
  }
}

TEST(RocksDbEngineTest, OpenFailsWithAClearMessage) {
  RocksDbOptions options;
  options.path = "/proc/meshmq-cannot-be-here";
  auto e = RocksDbEngine::Open(options);
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(std::string(e.status().message()), ::testing::HasSubstr("meshmq-cannot-be-here"));
}

}  // namespace
}  // namespace meshmq::storage
