// CommitLog: append/read across segment rolls, blank markers, segment naming, recovery of a torn tail.
#include "store/commit_log.h"

#include <gtest/gtest.h>

#include <limits>

#include "fault_injection_fs.h"
#include "store/endian.h"
#include "store_test_util.h"

namespace rocketrpc::store {
namespace {

using testing::FaultInjectionFs;
using testing::makeMessage;

constexpr int64_t kSegment = 4096;

std::string encode(int i) {
  MessageExt msg =
      makeMessage("T", i % 3, std::string(static_cast<size_t>(100 + (i * 37) % 700), 'a' + i % 26));
  msg.setQueueOffset(i);
  msg.setStoreHost("10.0.0.2:10911");
  return remoting::encodeStoredMessage(msg);
}

class CommitLogTest : public ::testing::Test {
 protected:
  std::shared_ptr<FaultInjectionFs> fs_ = std::make_shared<FaultInjectionFs>();
};

TEST_F(CommitLogTest, AppendReadAcrossSegmentRolls) {
  CommitLog log(fs_, "/cl", kSegment);
  ASSERT_TRUE(log.open().isOk());
  ASSERT_TRUE(log.recover(0, [](const RecordInfo&) {}).isOk());
  std::vector<std::pair<int64_t, std::string>> written;
  for (int i = 0; i < 60; ++i) {
    std::string rec = encode(i);
    auto off = log.append(rec);
    ASSERT_TRUE(off.isOk()) << off.status().toString();
    // A record never spans segments, and always leaves room for a blank marker.
    EXPECT_LE(*off % kSegment + static_cast<int64_t>(rec.size()) + kBlankMarkerSize, kSegment);
    written.emplace_back(*off, rec);
    if (i % 7 == 0) ASSERT_TRUE(log.commitPending().isOk());
  }
  ASSERT_TRUE(log.commitPending().isOk());
  EXPECT_GT(log.segmentCount(), 3u);
  for (const auto& [off, rec] : written) {
    auto read = log.readRecord(off);
    ASSERT_TRUE(read.isOk());
    EXPECT_EQ(*read, rec);
    auto msgs = remoting::decodeStoredMessages(*read, false);
    ASSERT_TRUE(msgs.isOk());
    EXPECT_EQ(msgs->front().commitLogOffset(), off);  // PHYSICALOFFSET patched in
  }
  // Segment names: 20-digit start offsets; every sealed segment ends with a blank marker covering the rest.
  auto names = fs_->list("/cl");
  ASSERT_TRUE(names.isOk());
  ASSERT_EQ(names->size(), log.segmentCount());
  EXPECT_EQ((*names)[0], "00000000000000000000");
  EXPECT_EQ((*names)[1], "00000000000000004096");
  for (size_t i = 0; i + 1 < names->size(); ++i) {
    auto data = readWholeFile(*fs_, "/cl/" + (*names)[i]);
    ASSERT_TRUE(data.isOk());
    const auto pos = static_cast<int64_t>(data->size()) - kBlankMarkerSize;
    EXPECT_EQ(getBig32(data->data() + pos), kSegment - pos);
    EXPECT_EQ(getBig32(data->data() + pos + 4), remoting::kBlankMagic);
  }
  EXPECT_EQ(log.readRecord(log.writtenOffset()).status().code(), StatusCode::kNotFound);
}

// Found by broker_requests_fuzz (UBSan: signed overflow in the range check): an offset a client chose, near
// INT64_MAX, is a range that is not stored, not an overflow.
TEST_F(CommitLogTest, ReadAtOffsetsNearTheLimitIsNotFound) {
  CommitLog log(fs_, "/cl", kSegment);
  ASSERT_TRUE(log.open().isOk());
  ASSERT_TRUE(log.recover(0, [](const RecordInfo&) {}).isOk());
  std::string rec = encode(1);
  ASSERT_TRUE(log.append(rec).isOk());
  ASSERT_TRUE(log.commitPending().isOk());
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  for (int64_t offset : {kMax, kMax - 7, kMax - 8, kMax / 2}) {
    std::string out;
    EXPECT_EQ(log.read(offset, 8, &out).code(), StatusCode::kNotFound) << offset;
    EXPECT_EQ(log.read(offset, std::numeric_limits<int32_t>::max(), &out).code(), StatusCode::kNotFound) << offset;
    EXPECT_EQ(log.readRecord(offset).status().code(), StatusCode::kNotFound) << offset;
  }
  std::string out;
  EXPECT_EQ(log.read(0, std::numeric_limits<int32_t>::max(), &out).code(), StatusCode::kNotFound);
}

TEST_F(CommitLogTest, RecordLargerThanSegmentIsRejected) {
  CommitLog log(fs_, "/cl", kSegment);
  ASSERT_TRUE(log.open().isOk());
  ASSERT_TRUE(log.recover(0, [](const RecordInfo&) {}).isOk());
  std::string rec = remoting::encodeStoredMessage(makeMessage("T", 0, std::string(kSegment, 'x')));
  EXPECT_EQ(log.append(rec).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(CommitLogTest, RecoverVisitsRecordsAndTruncatesTornTail) {
  std::vector<int64_t> offsets;
  {
    CommitLog log(fs_, "/cl", kSegment);
    ASSERT_TRUE(log.open().isOk());
    ASSERT_TRUE(log.recover(0, [](const RecordInfo&) {}).isOk());
    for (int i = 0; i < 20; ++i) {
      std::string rec = encode(i);
      offsets.push_back(*log.append(rec));
    }
    ASSERT_TRUE(log.commitPending().isOk());
    ASSERT_TRUE(log.sync().isOk());
  }
  // Cut the last record in half.
  const std::string last = "/cl/" + offsetFileName(offsets.back() / kSegment * kSegment);
  {
    auto file = fs_->open(last);
    ASSERT_TRUE((*file)->truncate(offsets.back() % kSegment + 50).isOk());
  }
  CommitLog log(fs_, "/cl", kSegment);
  ASSERT_TRUE(log.open().isOk());
  std::vector<RecordInfo> seen;
  auto end = log.recover(0, [&](const RecordInfo& r) { seen.push_back(r); });
  ASSERT_TRUE(end.isOk());
  EXPECT_EQ(*end, offsets.back());
  ASSERT_EQ(seen.size(), offsets.size() - 1);
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].offset, offsets[i]);
    EXPECT_EQ(seen[i].queue_offset, static_cast<int64_t>(i));
    EXPECT_EQ(seen[i].queue_id, static_cast<int32_t>(i % 3));
  }
  EXPECT_EQ(fs_->durableSize(last), offsets.back() % kSegment);  // truncated and synced
  std::string rec = encode(99);
  EXPECT_EQ(*log.append(rec), offsets.back());
}

TEST_F(CommitLogTest, OpenRejectsNonContiguousSegments) {
  ASSERT_TRUE(fs_->createDirs("/cl").isOk());
  ASSERT_TRUE(fs_->open("/cl/" + offsetFileName(0)).isOk());
  ASSERT_TRUE(fs_->open("/cl/" + offsetFileName(2 * kSegment)).isOk());
  CommitLog log(fs_, "/cl", kSegment);
  EXPECT_EQ(log.open().code(), StatusCode::kCorrupt);
}

}  // namespace
}  // namespace rocketrpc::store
