// Recovery: torn, garbage and corrupted tails on the real filesystem; consume-queue rebuilds; crashes with
// the fault-injection filesystem (sync flush never loses an acknowledged message; random crashes leave a
// prefix).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "fault_injection_fs.h"
#include "store/checkpoint.h"
#include "store/message_store.h"
#include "store_test_util.h"

namespace rocketrpc::store {
namespace {

namespace stdfs = std::filesystem;
using testing::FaultInjectionFs;
using testing::makeMessage;
using testing::readQueue;
using testing::ScratchDir;
using testing::smallOptions;

constexpr int kQueues = 3;

std::string bodyOf(int i) {
  return std::string(static_cast<size_t>(300 + (i * 131) % 900), static_cast<char>('a' + i % 26));
}

class RecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = MessageStore::open(smallOptions(golden()));
    ASSERT_TRUE(store.isOk());
    for (int i = 0; i < 240; ++i) {
      auto put = (*store)->putMessage(makeMessage("T", i % kQueues, bodyOf(i)));
      ASSERT_TRUE(put.isOk());
      puts_.push_back(*put);
    }
    ASSERT_GE((*store)->commitLogSegmentCount(), 3u);
    ASSERT_TRUE((*store)->close().isOk());
  }

  std::string golden() const { return dir_.sub("golden"); }
  std::string work() const { return dir_.sub("work"); }
  void resetWork() {
    stdfs::remove_all(work());
    stdfs::copy(golden(), work(), stdfs::copy_options::recursive);
  }
  std::string segmentPath(int64_t offset) const {
    const int64_t seg = smallOptions("").commit_log_segment_size;
    return work() + "/commitlog/" + offsetFileName(offset / seg * seg);
  }
  std::unique_ptr<MessageStore> openWork() {
    auto store = MessageStore::open(smallOptions(work()));
    EXPECT_TRUE(store.isOk()) << store.status().toString();
    return store ? std::move(*store) : nullptr;
  }

  // The store holds exactly the first `count` golden messages, and new appends continue right after them.
  void expectFirstMessages(size_t count) {
    auto store = openWork();
    ASSERT_NE(store, nullptr);
    const int64_t end = count == puts_.size() ? puts_.back().physical_offset + puts_.back().total_bytes
                                              : puts_[count].physical_offset;
    EXPECT_EQ(store->commitLogMaxOffset(), end);
    for (int q = 0; q < kQueues; ++q) {
      auto msgs = readQueue(*store, "T", q);
      size_t expected = 0;
      for (size_t i = q; i < count; i += kQueues) {
        ASSERT_LT(expected, msgs.size());
        EXPECT_EQ(msgs[expected].body(), bodyOf(static_cast<int>(i)));
        EXPECT_EQ(msgs[expected].commitLogOffset(), puts_[i].physical_offset);
        ++expected;
      }
      EXPECT_EQ(msgs.size(), expected);
      EXPECT_EQ(store->maxOffset("T", q), static_cast<int64_t>(expected));
    }
    const int queue = static_cast<int>(count % kQueues);
    auto put = store->putMessage(makeMessage("T", queue, "next"));
    ASSERT_TRUE(put.isOk());
    EXPECT_EQ(put->physical_offset, end);
    EXPECT_EQ(put->queue_offset, store->maxOffset("T", queue) - 1);
    EXPECT_EQ(put->queue_offset, static_cast<int64_t>((count + kQueues - 1 - queue) / kQueues));
    ASSERT_TRUE(store->close().isOk());
    auto again = openWork();
    EXPECT_EQ(again->commitLogMaxOffset(), end + put->total_bytes);
  }

  ScratchDir dir_;
  std::vector<PutResult> puts_;
};

TEST_F(RecoveryTest, CleanRestartKeepsEverything) {
  resetWork();
  expectFirstMessages(puts_.size());
}

TEST_F(RecoveryTest, TornLastRecordIsTruncatedAtEveryCut) {
  const PutResult& last = puts_.back();
  for (int64_t cut : {int64_t{0}, int64_t{1}, int64_t{4}, int64_t{8}, int64_t{29}, int64_t{90},
                      int64_t{last.total_bytes / 2}, int64_t{last.total_bytes - 1}}) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    resetWork();
    const int64_t seg = smallOptions("").commit_log_segment_size;
    stdfs::resize_file(segmentPath(last.physical_offset),
                       static_cast<uintmax_t>(last.physical_offset % seg + cut));
    expectFirstMessages(puts_.size() - 1);
  }
}

TEST_F(RecoveryTest, GarbageAfterTheLastRecordIsTruncated) {
  const int64_t end = puts_.back().physical_offset + puts_.back().total_bytes;
  std::mt19937 rng(7);
  for (int variant = 0; variant < 3; ++variant) {
    SCOPED_TRACE("variant " + std::to_string(variant));
    resetWork();
    std::string garbage(1000, '\0');
    for (char& c : garbage) c = static_cast<char>(rng());
    if (variant == 1) garbage.assign(1000, '\0');  // a zero-filled tail
    if (variant == 2) {                            // a plausible header: size 200, V1 magic, junk after it
      const char header[8] = {0,
                              0,
                              0,
                              static_cast<char>(200),
                              static_cast<char>(0xDA),
                              static_cast<char>(0xA3),
                              0x20,
                              static_cast<char>(0xA7)};
      garbage.replace(0, 8, header, 8);
    }
    std::ofstream(segmentPath(end), std::ios::binary | std::ios::app) << garbage;
    expectFirstMessages(puts_.size());
  }
}

TEST_F(RecoveryTest, CorruptedBodyCrcInTheLastRecordDropsIt) {
  resetWork();
  const PutResult& last = puts_.back();
  const int64_t seg = smallOptions("").commit_log_segment_size;
  std::fstream f(segmentPath(last.physical_offset), std::ios::binary | std::ios::in | std::ios::out);
  f.seekp(last.physical_offset % seg + 88 + 10);  // inside the body (84-byte fixed part + BODYLEN)
  f.put('#');
  f.close();
  expectFirstMessages(puts_.size() - 1);
}

TEST_F(RecoveryTest, CorruptionInAnEarlierSegmentDropsEverythingAfterIt) {
  resetWork();
  // Without a checkpoint, recovery validates the whole log.
  stdfs::remove(work() + "/checkpoint");
  const PutResult& victim = puts_[20];
  const int64_t seg = smallOptions("").commit_log_segment_size;
  std::fstream f(segmentPath(victim.physical_offset), std::ios::binary | std::ios::in | std::ios::out);
  f.seekp(victim.physical_offset % seg + 4);  // MAGICCODE
  f.put('\0');
  f.close();
  expectFirstMessages(20);
  EXPECT_EQ(stdfs::exists(segmentPath(puts_.back().physical_offset)), false);
}

// QUEUEID and QUEUEOFFSET are not covered by the body CRC, but recovery files the record under them (a queue
// offset near INT64_MAX would overflow the consume queue's byte position): a record with impossible values is
// invalid like one with a bad CRC, and the log ends before it.
TEST_F(RecoveryTest, ImpossibleQueueFieldsEndTheLogLikeABadCrc) {
  const int64_t seg = smallOptions("").commit_log_segment_size;
  struct Damage {
    const char* what;
    int64_t pos;  // in the record
    std::string bytes;
  };
  const Damage damages[] = {
      {"queue offset near INT64_MAX", 20, std::string("\x47\x53\x0c\x00\x3c\x44\xec\x81", 8)},
      {"negative queue offset", 20, std::string("\xff\xff\xff\xff\xff\xff\xff\xfe", 8)},
      {"negative queue id", 12, std::string("\xff\xff\xff\xfd", 4)},
  };
  const size_t victim = puts_.size() - 5;
  for (const Damage& d : damages) {
    SCOPED_TRACE(d.what);
    resetWork();
    stdfs::remove(work() + "/checkpoint");  // recovery validates the whole log
    {
      std::fstream f(segmentPath(puts_[victim].physical_offset), std::ios::binary | std::ios::in | std::ios::out);
      f.seekp(puts_[victim].physical_offset % seg + d.pos);
      f.write(d.bytes.data(), static_cast<std::streamsize>(d.bytes.size()));
    }
    expectFirstMessages(victim);
  }
}

// Records behind the checkpoint are trusted at start (as in Apache RocketMQ); damage there is found when a
// pull reaches it. The damaged entries are skipped (and counted), never served as garbage and never an error
// that would stall the queue's consumers; everything else is still served, in order.
TEST_F(RecoveryTest, DamageBehindTheCheckpointIsSkippedWhenServed) {
  resetWork();
  const int64_t seg = smallOptions("").commit_log_segment_size;
  const PutResult& overwritten = puts_[4];  // its BODYLEN made inconsistent with TOTALSIZE
  const PutResult& cut = puts_[10];         // the first segment is cut short from here on
  ASSERT_EQ(overwritten.physical_offset / seg, 0);
  ASSERT_EQ(cut.physical_offset / seg, 0);
  ASSERT_GT(puts_.back().physical_offset / seg, 0);
  {
    auto store = openWork();  // the golden store, checkpoint included
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->close().isOk());
  }
  size_t lost_in_segment0 = 0;
  for (const PutResult& p : puts_) lost_in_segment0 += (p.physical_offset >= cut.physical_offset &&
                                                        p.physical_offset / seg == 0);
  {
    std::fstream f(segmentPath(0), std::ios::binary | std::ios::in | std::ios::out);
    // BODYLEN sits right before the body (bodyOf(4)).
    std::string rec(static_cast<size_t>(overwritten.total_bytes), '\0');
    f.seekg(overwritten.physical_offset);
    f.read(rec.data(), overwritten.total_bytes);
    const size_t body_at = rec.find(bodyOf(4));
    ASSERT_NE(body_at, std::string::npos);
    f.seekp(overwritten.physical_offset + static_cast<int64_t>(body_at) - 4);
    const char huge[4] = {0x10, 0, 0, 0};
    f.write(huge, 4);
  }
  stdfs::resize_file(segmentPath(0), static_cast<uintmax_t>(cut.physical_offset));

  auto store = openWork();
  ASSERT_NE(store, nullptr);
  size_t served = 0;
  for (int q = 0; q < kQueues; ++q) {
    auto msgs = readQueue(*store, "T", q);  // fails the test on any error or undecodable data
    std::vector<std::string> expected;
    for (size_t i = q; i < puts_.size(); i += kQueues) {
      if (i == 4 || (puts_[i].physical_offset >= cut.physical_offset && puts_[i].physical_offset / seg == 0))
        continue;
      expected.push_back(bodyOf(static_cast<int>(i)));
    }
    std::vector<std::string> bodies;
    for (const auto& m : msgs) bodies.push_back(m.body());
    EXPECT_EQ(bodies, expected) << "queue " << q;
    served += msgs.size();
  }
  EXPECT_EQ(served, puts_.size() - 1 - lost_in_segment0);
  EXPECT_EQ(store->corruptEntriesSkipped(), 1 + lost_in_segment0);
}

TEST_F(RecoveryTest, ConsumeQueuesAreRebuiltWhenDeleted) {
  resetWork();
  stdfs::remove_all(work() + "/consumequeue");
  expectFirstMessages(puts_.size());
  // Without a checkpoint, one queue's files are rebuilt too.
  resetWork();
  stdfs::remove(work() + "/checkpoint");
  stdfs::remove_all(work() + "/consumequeue/T/1");
  expectFirstMessages(puts_.size());
}

TEST_F(RecoveryTest, ConsumeQueueWithAGapIsRebuilt) {
  // Queue 0's files are gone, and the checkpoint makes recovery re-dispatch only the last 40 records: their
  // queue offsets start past the empty queue's end, so the queue is rebuilt from the whole commit log.
  resetWork();
  const int64_t end = puts_.back().physical_offset + puts_.back().total_bytes;
  ASSERT_TRUE(writeCheckpoint(*posixFileSystem(), work() + "/checkpoint",
                              Checkpoint{end, puts_[200].physical_offset, 0})
                  .isOk());
  stdfs::remove_all(work() + "/consumequeue/T/0");
  expectFirstMessages(puts_.size());
}

// ---- crashes on the fault-injection filesystem ---------------------------------------------------------

class CrashTest : public ::testing::Test {
 protected:
  MessageStoreOptions options(FlushMode mode) {
    auto o = smallOptions("/store");
    o.fs = fs_;
    o.flush_mode = mode;
    o.commit_log_segment_size = 8192;
    o.consume_queue_entries_per_file = 16;
    return o;
  }
  std::unique_ptr<MessageStore> open(FlushMode mode) {
    auto store = MessageStore::open(options(mode));
    EXPECT_TRUE(store.isOk()) << store.status().toString();
    return store ? std::move(*store) : nullptr;
  }
  // Power loss: the process dies (nothing more reaches the disk), then unsynced data is lost.
  void crash(std::unique_ptr<MessageStore>& store, std::mt19937* rng) {
    fs_->setFailWrites(true);
    store.reset();
    fs_->crash(rng);
    fs_->setFailWrites(false);
  }

  std::shared_ptr<FaultInjectionFs> fs_ = std::make_shared<FaultInjectionFs>();
};

TEST_F(CrashTest, SyncFlushAcksOnlyDurableMessages) {
  auto store = open(FlushMode::kSync);
  std::map<std::pair<int, int64_t>, std::string> acked;  // (queue, queue offset) -> body
  for (int i = 0; i < 40; ++i) {
    const int64_t syncs = fs_->syncCount();
    auto put = store->putMessage(makeMessage("S", i % 2, bodyOf(i)));
    ASSERT_TRUE(put.isOk());
    EXPECT_GT(fs_->syncCount(), syncs);
    const int64_t seg = 8192;
    const std::string path = "/store/commitlog/" + offsetFileName(put->physical_offset / seg * seg);
    EXPECT_GE(fs_->durableSize(path), put->physical_offset % seg + put->total_bytes);
    acked[{i % 2, put->queue_offset}] = bodyOf(i);
  }
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        const std::string body = "t" + std::to_string(t) + "-" + std::to_string(i);
        auto put = store->putMessage(makeMessage("S", t % 2, body));
        ASSERT_TRUE(put.isOk());
        std::lock_guard lock(mu);
        acked[{t % 2, put->queue_offset}] = body;
      }
    });
  }
  for (auto& th : threads) th.join();
  std::mt19937 rng(1);
  crash(store, &rng);
  store = open(FlushMode::kSync);
  for (int q = 0; q < 2; ++q) {
    auto msgs = readQueue(*store, "S", q);
    size_t expected = 0;
    for (const auto& [key, body] : acked) expected += key.first == q ? 1 : 0;
    ASSERT_EQ(msgs.size(), expected);
    for (const auto& m : msgs) EXPECT_EQ((acked.at({q, m.queueOffset()})), m.body());
  }
}

TEST_F(CrashTest, AsyncFlushLosesOnlyTheUnflushedTail) {
  auto store = open(FlushMode::kAsync);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(store->putMessage(makeMessage("A", 0, bodyOf(i))).isOk());
  ASSERT_TRUE(store->flush().isOk());
  for (int i = 20; i < 35; ++i) ASSERT_TRUE(store->putMessage(makeMessage("A", 0, bodyOf(i))).isOk());
  crash(store, nullptr);  // drop every unsynced byte
  store = open(FlushMode::kAsync);
  auto msgs = readQueue(*store, "A", 0);
  ASSERT_EQ(msgs.size(), 20u);
  for (size_t i = 0; i < msgs.size(); ++i) EXPECT_EQ(msgs[i].body(), bodyOf(static_cast<int>(i)));
  auto put = store->putMessage(makeMessage("A", 0, "after"));
  EXPECT_EQ(put->queue_offset, 20);
  EXPECT_EQ(put->physical_offset + put->total_bytes, store->commitLogMaxOffset());
}

TEST_F(CrashTest, RandomCrashesLeaveAConsistentPrefix) {
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    fs_ = std::make_shared<FaultInjectionFs>();
    std::mt19937 rng(seed);
    std::map<std::pair<int, int64_t>, std::string> model;  // everything acknowledged and not known lost
    std::map<std::pair<int, int64_t>, std::string> durable;
    for (int round = 0; round < 3; ++round) {
      const FlushMode mode = (seed + round) % 2 ? FlushMode::kSync : FlushMode::kAsync;
      auto store = open(mode);
      ASSERT_NE(store, nullptr);
      // Check: every durable message is there, every message there was acknowledged, queues are contiguous.
      for (int q = 0; q < kQueues; ++q) {
        auto msgs = readQueue(*store, "R", q);
        ASSERT_EQ(store->minOffset("R", q), 0);
        for (size_t i = 0; i < msgs.size(); ++i) {
          ASSERT_EQ(msgs[i].queueOffset(), static_cast<int64_t>(i));
          ASSERT_EQ(model.at({q, msgs[i].queueOffset()}), msgs[i].body());
        }
        for (const auto& [key, body] : durable) {
          if (key.first == q)
            ASSERT_LT(key.second, static_cast<int64_t>(msgs.size())) << "lost a durable message";
        }
        for (auto it = model.begin(); it != model.end();) {  // forget what the crash took
          it = it->first.first == q && it->first.second >= static_cast<int64_t>(msgs.size()) ? model.erase(it)
                                                                                             : std::next(it);
        }
      }
      const int puts = 1 + static_cast<int>(rng() % 60);
      for (int i = 0; i < puts; ++i) {
        const int q = static_cast<int>(rng() % kQueues);
        const std::string body = "s" + std::to_string(seed) + "r" + std::to_string(round) + "i" +
                                 std::to_string(i) + std::string(rng() % 2500, 'x');
        auto put = store->putMessage(makeMessage("R", q, body));
        ASSERT_TRUE(put.isOk()) << put.status().toString();
        model[{q, put->queue_offset}] = body;
        if (mode == FlushMode::kSync) durable[{q, put->queue_offset}] = body;
        if (rng() % 10 == 0) {
          ASSERT_TRUE(store->flush().isOk());
          durable = model;
        }
      }
      crash(store, &rng);
    }
  }
}

}  // namespace
}  // namespace rocketrpc::store
