#include "transport/write_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace meshmq::transport {
namespace {

std::string Joined(const std::vector<boost::asio::const_buffer>& buffers) {
  std::string out;
  for (const auto& b : buffers) out.append(static_cast<const char*>(b.data()), b.size());
  return out;
}

// A payload above kInlinePayload: gathered by reference, never copied.
codec::SharedBytes LargePayload(char fill, std::size_t n = WriteQueue::kInlinePayload + 1) {
  return codec::SharedBytes(std::string(n, fill));
}

TEST(WriteQueueTest, BatchGathersHeadersAndSharedPayloadsInOrder) {
  WriteQueue q;
  codec::SharedBytes payload = LargePayload('P');
  q.Push("h1", {});
  q.Push("h2", payload);
  EXPECT_EQ(q.queued_bytes(), 2u + 2u + payload.size());
  const auto& batch = q.NextBatch();
  // "h1" and "h2" sit back to back in the queue's block: one buffer, then the shared payload.
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[1].data(), payload.data());  // the payload is not copied
  EXPECT_EQ(Joined(batch), "h1h2" + payload.str());
  EXPECT_TRUE(q.writing());
  q.Push("h3", {});  // queued while writing: not part of the batch in flight
  EXPECT_EQ(batch.size(), 2u);
  q.FinishBatch(4 + payload.size());
  EXPECT_FALSE(q.writing());
  EXPECT_EQ(q.queued_bytes(), 2u);
  EXPECT_EQ(Joined(q.NextBatch()), "h3");
}

// Small packets, payload included, are copied into one contiguous run: a burst of QoS 0
// deliveries is one buffer for the kernel and holds no message's payload block.
TEST(WriteQueueTest, SmallPacketsAreCopiedBackToBack) {
  WriteQueue q;
  codec::SharedBytes small(std::string("tiny"));
  std::string want;
  for (int i = 0; i < 50; ++i) {
    std::string head = "h" + std::to_string(i);
    q.Push(head, small);
    want += head + "tiny";
  }
  ASSERT_LE(want.size(), WriteQueue::kFirstBlockBytes);
  EXPECT_EQ(small.block().use_count(), 1) << "the queue keeps no reference to a copied payload";
  EXPECT_EQ(q.queued_bytes(), want.size());
  const auto& batch = q.NextBatch();
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(Joined(batch), want);
  q.FinishBatch(want.size());
  EXPECT_TRUE(q.empty());
  // A longer burst: one buffer per block (the built-in one, then pooled ones).
  want.clear();
  for (int i = 0; i < 2000; ++i) {
    std::string head = "h" + std::to_string(i);
    q.Push(head, small);
    want += head + "tiny";
  }
  const auto& more = q.NextBatch();
  EXPECT_LE(more.size(), 2 + (want.size() - WriteQueue::kFirstBlockBytes) / (WriteQueue::kBlockBytes - 16));
  EXPECT_EQ(Joined(more), want);
  q.FinishBatch(want.size());
  EXPECT_TRUE(q.empty());
}

// More bytes than one block holds, written in pieces that end anywhere: every byte comes out
// once, in order, and blocks are handed back as they empty.
TEST(WriteQueueTest, ManyBlocksDrainInOrderThroughShortWrites) {
  WriteQueue q;
  std::string want;
  for (int i = 0; i < 3000; ++i) {
    std::string head = "packet-" + std::to_string(i) + ";";
    if (i % 97 == 0) {
      codec::SharedBytes big = LargePayload(static_cast<char>('a' + i % 26), 300 + i);
      q.Push(head, big);
      want += head + big.str();
    } else {
      q.Push(head, {});
      want += head;
    }
  }
  ASSERT_GT(want.size(), 4 * WriteQueue::kBlockBytes);
  std::string got;
  std::size_t cut = 1;
  while (!q.empty()) {
    std::string batch = Joined(q.NextBatch());
    std::size_t n = std::min(batch.size(), cut);
    got += batch.substr(0, n);
    q.FinishBatch(n);
    cut = cut * 3 % 5003 + 1;  // short writes of varying length
    if (got.size() % 7 == 0) q.Push("late;", {}), want += "late;";
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(q.queued_bytes(), 0u);
  EXPECT_FALSE(q.holds_storage());
}

// A header too long for a block (large v5 properties) is kept whole in its own allocation.
TEST(WriteQueueTest, LongHeaderIsKeptApart) {
  WriteQueue q;
  std::string head(WriteQueue::kBlockBytes, 'H');
  q.Push("a", {});
  q.Push(head, codec::SharedBytes(std::string("p")));
  q.Push("b", {});
  EXPECT_EQ(Joined(q.NextBatch()), "a" + head + "pb");
  q.FinishBatch(head.size() + 3);
  EXPECT_TRUE(q.empty());
}

TEST(WriteQueueTest, BatchIsCappedAtMaxChunks) {
  WriteQueue q;
  codec::SharedBytes payload = LargePayload('x');
  for (std::size_t i = 0; i < WriteQueue::kMaxChunksPerWrite + 10; ++i) q.Push("x", payload);
  const std::size_t packet = 1 + payload.size();
  EXPECT_EQ(q.NextBatch().size(), 2 * WriteQueue::kMaxChunksPerWrite);
  q.FinishBatch(WriteQueue::kMaxChunksPerWrite * packet);
  EXPECT_EQ(q.NextBatch().size(), 2 * 10u);
  q.FinishBatch(10 * packet);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.queued_bytes(), 0u);
}

// A non-blocking write that the kernel cut short: the next batch resumes at the first unwritten
// byte, inside a header or inside a shared payload, and later packets follow.
TEST(WriteQueueTest, ShortWriteResumesInsideThePacket) {
  WriteQueue q;
  codec::SharedBytes payload = LargePayload('w');
  const std::string world = payload.str();
  q.Push("hello", payload);
  q.Push("!", {});
  EXPECT_EQ(Joined(q.NextBatch()), "hello" + world + "!");
  q.FinishBatch(3);  // inside the header
  EXPECT_EQ(q.queued_bytes(), 3u + world.size());
  EXPECT_EQ(Joined(q.NextBatch()), "lo" + world + "!");
  q.FinishBatch(4);  // inside the payload
  const auto& batch = q.NextBatch();
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].data(), payload.data() + 2);  // still the shared bytes, not a copy
  EXPECT_EQ(Joined(batch), world.substr(2) + "!");
  q.FinishBatch(world.size() - 2);  // exactly the end of the first packet
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
