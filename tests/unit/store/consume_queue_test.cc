// ConsumeQueue: fixed-size entries across files, repair/gap rules, truncation, min-offset correction, load.
#include "store/consume_queue.h"

#include <gtest/gtest.h>

#include "fault_injection_fs.h"

namespace rocketrpc::store {
namespace {

using testing::FaultInjectionFs;

CqEntry entry(int64_t i) { return CqEntry{1000 + i * 100, 100, i * 7}; }

class ConsumeQueueTest : public ::testing::Test {
 protected:
  std::unique_ptr<ConsumeQueue> open() {
    auto q = std::make_unique<ConsumeQueue>(fs_, "/cq/T/0", 4);
    EXPECT_TRUE(q->load().isOk());
    return q;
  }
  std::shared_ptr<FaultInjectionFs> fs_ = std::make_shared<FaultInjectionFs>();
};

TEST_F(ConsumeQueueTest, PutAndReadAcrossFiles) {
  auto q = open();
  for (int64_t i = 0; i < 10; ++i) ASSERT_TRUE(q->put(i, entry(i)).isOk());
  EXPECT_EQ(q->minOffset(), 0);
  EXPECT_EQ(q->maxOffset(), 10);
  // 4 entries of 20 bytes per file; files named by byte offset.
  auto names = fs_->list("/cq/T/0");
  ASSERT_TRUE(names.isOk());
  EXPECT_EQ(*names, (std::vector<std::string>{"00000000000000000000", "00000000000000000080",
                                              "00000000000000000160"}));
  std::vector<CqEntry> got;
  ASSERT_TRUE(q->read(2, 100, &got).isOk());
  ASSERT_EQ(got.size(), 2u);  // stops at the file end
  EXPECT_EQ(got[1].commit_log_offset, entry(3).commit_log_offset);
  auto e = q->get(9);
  ASSERT_TRUE(e.isOk());
  EXPECT_EQ(e->tags_code, 63);
  EXPECT_EQ(q->get(10).status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(q->sync().isOk());  // appended entries are buffered until sync()
  auto reopened = open();
  EXPECT_EQ(reopened->maxOffset(), 10);
  EXPECT_EQ(reopened->get(5)->commit_log_offset, entry(5).commit_log_offset);
}

TEST_F(ConsumeQueueTest, PutKeepsRepairsAndDetectsGaps) {
  auto q = open();
  for (int64_t i = 0; i < 3; ++i) ASSERT_TRUE(q->put(i, entry(i)).isOk());
  ASSERT_TRUE(q->put(1, entry(1)).isOk());          // identical: kept
  ASSERT_TRUE(q->put(1, CqEntry{5, 5, 5}).isOk());  // stale: repaired
  EXPECT_EQ(q->get(1)->commit_log_offset, 5);
  EXPECT_EQ(q->maxOffset(), 3);
  EXPECT_EQ(q->put(5, entry(5)).code(), StatusCode::kCorrupt);

  // An empty queue may start anywhere (rebuilt after retention).
  auto fresh = std::make_unique<ConsumeQueue>(fs_, "/cq/T/1", 4);
  ASSERT_TRUE(fresh->load().isOk());
  ASSERT_TRUE(fresh->put(6, entry(6)).isOk());
  EXPECT_EQ(fresh->minOffset(), 6);
  EXPECT_EQ(fresh->maxOffset(), 7);
  ASSERT_TRUE(fresh->sync().isOk());
  auto reloaded = std::make_unique<ConsumeQueue>(fs_, "/cq/T/1", 4);
  ASSERT_TRUE(reloaded->load().isOk());
  ASSERT_TRUE(reloaded->truncateFrom(1 << 20).isOk());
  ASSERT_TRUE(reloaded->correctMinOffset(0).isOk());  // skips the blank entries 4 and 5 of the file
  EXPECT_EQ(reloaded->minOffset(), 6);
  EXPECT_EQ(reloaded->maxOffset(), 7);
}

TEST_F(ConsumeQueueTest, AppendsAreBufferedUntilSync) {
  auto q = open();
  for (int64_t i = 0; i < 3; ++i) ASSERT_TRUE(q->put(i, entry(i)).isOk());
  ASSERT_TRUE(q->sync().isOk());
  for (int64_t i = 3; i < 6; ++i) ASSERT_TRUE(q->put(i, entry(i)).isOk());
  // Readable at once, across the file boundary (entry 3 closes file 0, 4 and 5 open file 1).
  std::vector<CqEntry> got;
  ASSERT_TRUE(q->read(2, 2, &got).isOk());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].commit_log_offset, entry(2).commit_log_offset);
  EXPECT_EQ(got[1].commit_log_offset, entry(3).commit_log_offset);
  EXPECT_EQ(q->get(5)->tags_code, entry(5).tags_code);
  // Entry 3 was written when the queue moved to the next file; 4 and 5 are still buffered.
  EXPECT_EQ(open()->maxOffset(), 4);
  ASSERT_TRUE(q->sync().isOk());
  auto reopened = open();
  EXPECT_EQ(reopened->maxOffset(), 6);
  EXPECT_EQ(reopened->get(5)->commit_log_offset, entry(5).commit_log_offset);
}

TEST_F(ConsumeQueueTest, TruncateFromDropsEntriesPastTheLogEnd) {
  auto q = open();
  for (int64_t i = 0; i < 10; ++i) ASSERT_TRUE(q->put(i, entry(i)).isOk());
  ASSERT_TRUE(q->truncateFrom(entry(5).commit_log_offset + 50).isOk());  // entry 5 ends past it
  EXPECT_EQ(q->maxOffset(), 5);
  auto names = fs_->list("/cq/T/0");
  EXPECT_EQ(names->size(), 2u);
  ASSERT_TRUE(q->put(5, entry(5)).isOk());
  EXPECT_EQ(q->maxOffset(), 6);
}

TEST_F(ConsumeQueueTest, CorrectMinOffsetDeletesFilesBelow) {
  auto q = open();
  for (int64_t i = 0; i < 10; ++i) ASSERT_TRUE(q->put(i, entry(i)).isOk());
  ASSERT_TRUE(q->correctMinOffset(entry(6).commit_log_offset).isOk());
  EXPECT_EQ(q->minOffset(), 6);
  EXPECT_EQ(fs_->list("/cq/T/0")->size(), 2u);  // [0,4) deleted; [4,8) holds 6 and 7
  std::vector<CqEntry> got;
  ASSERT_TRUE(q->read(3, 10, &got).isOk());
  EXPECT_TRUE(got.empty());
  ASSERT_TRUE(q->correctMinOffset(1 << 20).isOk());  // everything below: empty, last file kept
  EXPECT_EQ(q->minOffset(), 10);
  EXPECT_EQ(q->maxOffset(), 10);
  EXPECT_EQ(fs_->list("/cq/T/0")->size(), 1u);
}

TEST_F(ConsumeQueueTest, LoadDropsTornEntry) {
  {
    auto q = open();
    for (int64_t i = 0; i < 3; ++i) ASSERT_TRUE(q->put(i, entry(i)).isOk());
  }
  auto file = fs_->open("/cq/T/0/00000000000000000000");
  ASSERT_TRUE((*file)->truncate(2 * kCqEntrySize + 7).isOk());
  auto q = open();
  EXPECT_EQ(q->maxOffset(), 2);
  EXPECT_EQ(*(*file)->size(), 2 * kCqEntrySize);
}

}  // namespace
}  // namespace rocketrpc::store
