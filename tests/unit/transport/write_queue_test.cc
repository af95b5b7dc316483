#include "transport/write_queue.h"

#include <gtest/gtest.h>

#include <string>

namespace meshmq::transport {
namespace {

std::string Joined(const std::vector<boost::asio::const_buffer>& buffers) {
  std::string out;
  for (const auto& b : buffers) out.append(static_cast<const char*>(b.data()), b.size());
  return out;
}

TEST(WriteQueueTest, BatchGathersHeadersAndSharedPayloadsInOrder) {
  WriteQueue q;
  codec::SharedBytes payload(std::string("PAYLOAD"));
  q.Push("h1", {});
  q.Push("h2", payload);
  EXPECT_EQ(q.queued_bytes(), 2u + 2u + 7u);
  const auto& batch = q.NextBatch();
  ASSERT_EQ(batch.size(), 3u);                 // no empty buffer for the payload-less packet
  EXPECT_EQ(batch[2].data(), payload.data());  // the payload is not copied
  EXPECT_EQ(Joined(batch), "h1h2PAYLOAD");
  EXPECT_TRUE(q.writing());
  q.Push("h3", {});  // queued while writing: not part of the batch in flight
  q.FinishBatch(11);
  EXPECT_FALSE(q.writing());
  EXPECT_EQ(q.queued_bytes(), 2u);
  EXPECT_EQ(Joined(q.NextBatch()), "h3");
}

TEST(WriteQueueTest, BatchIsCappedAtMaxChunks) {
  WriteQueue q;
  for (std::size_t i = 0; i < WriteQueue::kMaxChunksPerWrite + 10; ++i) q.Push("x", {});
  EXPECT_EQ(q.NextBatch().size(), WriteQueue::kMaxChunksPerWrite);
  q.FinishBatch(WriteQueue::kMaxChunksPerWrite);
  EXPECT_EQ(q.NextBatch().size(), 10u);
  q.FinishBatch(10);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.queued_bytes(), 0u);
}

// A non-blocking write that the kernel cut short: the next batch resumes at the first unwritten
// byte, inside a header or inside a shared payload, and later packets follow.
TEST(WriteQueueTest, ShortWriteResumesInsideThePacket) {
  WriteQueue q;
  codec::SharedBytes payload(std::string("world"));
  q.Push("hello", payload);
  q.Push("!", {});
  EXPECT_EQ(Joined(q.NextBatch()), "helloworld!");
  q.FinishBatch(3);  // inside the header
  EXPECT_EQ(q.queued_bytes(), 8u);
  EXPECT_EQ(Joined(q.NextBatch()), "loworld!");
  q.FinishBatch(4);  // inside the payload
  const auto& batch = q.NextBatch();
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].data(), payload.data() + 2);  // still the shared bytes, not a copy
  EXPECT_EQ(Joined(batch), "rld!");
  q.FinishBatch(3);  // exactly the end of the first packet
  EXPECT_EQ(Joined(q.NextBatch()), "!");
  q.FinishBatch(1);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.queued_bytes(), 0u);
  EXPECT_FALSE(q.holds_storage());
}

TEST(WriteQueueTest, ClearDropsEverything) {
  WriteQueue q;
  q.Push("abc", codec::SharedBytes(std::string("def")));
  q.NextBatch();
  q.Clear();
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.writing());
  EXPECT_EQ(q.queued_bytes(), 0u);
}

// An idle connection's queue holds no heap storage; pushing many packets while a batch is being
// written must not move the (short, inline) headers the write is reading.
TEST(WriteQueueTest, StorageIsReleasedWhenDrainedAndBatchSurvivesPushes) {
  WriteQueue q;
  EXPECT_FALSE(q.holds_storage());
  q.Push("first", {});
  q.Push("second", {});
  EXPECT_TRUE(q.holds_storage());
  const auto& batch = q.NextBatch();
  for (int i = 0; i < 1000; ++i) q.Push("more" + std::to_string(i), {});
  EXPECT_EQ(Joined(batch), "firstsecond");
  q.FinishBatch(11);
  EXPECT_TRUE(q.holds_storage());
  while (!q.empty()) q.FinishBatch(Joined(q.NextBatch()).size());
  EXPECT_FALSE(q.holds_storage());
  EXPECT_EQ(q.queued_bytes(), 0u);
  q.Push("again", {});  // storage comes back (from the thread's pool)
  EXPECT_EQ(Joined(q.NextBatch()), "again");
  q.FinishBatch(5);
  EXPECT_FALSE(q.holds_storage());
}

}  // namespace
}  // namespace meshmq::transport
