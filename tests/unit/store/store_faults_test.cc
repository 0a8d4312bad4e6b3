// Faults of files and disks (issue 10): the descriptor cache, puts refused and resumed on a full disk or
// without descriptors, fsync errors that stop writes for good and never let the checkpoint pass unsynced data,
// and a store that opens and serves reads on a full disk. All on the fault-injection filesystem (label "fault").
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "fault_injection_fs.h"
#include "store/checkpoint.h"
#include "store/file_cache.h"
#include "store/message_store.h"
#include "store_test_util.h"

namespace rocketrpc::store {
namespace {

using testing::FaultInjectionFs;
using testing::FsFault;
using testing::FsOp;
using testing::makeMessage;
using testing::readQueue;
using testing::smallOptions;

const std::string kRoot = "/store";

std::string path(int i) { return "/d/f" + std::to_string(i); }

// ---- the descriptor cache ---------------------------------------------------------------------------------

TEST(FileCacheFaultTest, BoundsOpenDescriptorsAndReopensOnDemand) {
  auto fs = std::make_shared<FaultInjectionFs>();
  CachingFileSystem cache(fs, 4);
  std::vector<std::unique_ptr<File>> files;
  for (int i = 0; i < 20; ++i) {
    auto f = cache.open(path(i));
    ASSERT_TRUE(f.isOk()) << f.status().toString();
    ASSERT_TRUE((*f)->write(0, "data " + std::to_string(i)).isOk());
    files.push_back(std::move(*f));
  }
  EXPECT_LE(fs->peakOpenFiles(), 4);
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 20; ++i) {
      std::string out;
      ASSERT_TRUE(files[i]->read(0, 100, &out).isOk());
      EXPECT_EQ(out, "data " + std::to_string(i));
      EXPECT_EQ(*files[i]->size(), static_cast<int64_t>(out.size()));
    }
  }
  EXPECT_LE(fs->peakOpenFiles(), 4);
  EXPECT_GT(cache.evictions(), 16u);
  files.clear();
  EXPECT_EQ(fs->openFiles(), 0);
  EXPECT_EQ(cache.openCount(), 0u);
}

TEST(FileCacheFaultTest, AWrittenFileIsSyncedBeforeItsDescriptorCloses) {
  auto fs = std::make_shared<FaultInjectionFs>();
  CachingFileSystem cache(fs, 1);
  auto a = cache.open(path(1));
  ASSERT_TRUE(a.isOk());
  ASSERT_TRUE((*a)->write(0, "acknowledged").isOk());
  auto b = cache.open(path(2));  // closes a
  ASSERT_TRUE(b.isOk());
  EXPECT_EQ(fs->durableSize(path(1)), 12);
  // Its later sync() has nothing left to do, and says so truthfully.
  EXPECT_TRUE((*a)->sync().isOk());
}

TEST(FileCacheFaultTest, AKeptOpenFileIsNeverClosed) {
  auto fs = std::make_shared<FaultInjectionFs>();
  CachingFileSystem cache(fs, 2);
  auto active = cache.open(path(0));
  ASSERT_TRUE(active.isOk());
  (*active)->keepOpen(true);
  std::vector<std::unique_ptr<File>> others;
  for (int i = 1; i < 10; ++i) others.push_back(cache.open(path(i)).value());
  // Its descriptor survived: it still reads after its path is gone, unlike a closed one.
  ASSERT_TRUE(fs->remove(path(0)).isOk());
  ASSERT_TRUE(fs->remove(path(1)).isOk());
  EXPECT_TRUE((*active)->write(0, "x").isOk());
  std::string out;
  EXPECT_TRUE((*active)->read(0, 1, &out).isOk());
  EXPECT_EQ(out, "x");
  const Status gone = others[0]->read(0, 1, &out);
  EXPECT_EQ(gone.code(), StatusCode::kNotFound) << gone.toString();
  EXPECT_FALSE(fs->exists(path(1))) << "reopening must never recreate a deleted file";
}

TEST(FileCacheFaultTest, EmfileFromTheSystemClosesIdleFilesAndRetries) {
  auto fs = std::make_shared<FaultInjectionFs>();
  fs->setMaxOpenFiles(3);  // the process limit is lower than the cache's bound
  CachingFileSystem cache(fs, 100);
  std::vector<std::unique_ptr<File>> files;
  for (int i = 0; i < 10; ++i) {
    auto f = cache.open(path(i));
    ASSERT_TRUE(f.isOk()) << i << ": " << f.status().toString();
    ASSERT_TRUE((*f)->write(0, std::to_string(i)).isOk());
    files.push_back(std::move(*f));
  }
  for (int i = 0; i < 10; ++i) {
    std::string out;
    ASSERT_TRUE(files[i]->read(0, 10, &out).isOk());
    EXPECT_EQ(out, std::to_string(i));
  }
}

TEST(FileCacheFaultTest, AFailedFsyncWhenClosingIsStickyForEveryFile) {
  auto fs = std::make_shared<FaultInjectionFs>();
  CachingFileSystem cache(fs, 1);
  auto a = cache.open(path(1));
  ASSERT_TRUE(a.isOk());
  ASSERT_TRUE((*a)->write(0, "lost?").isOk());
  fs->addFault(FsFault{FsOp::kSync, EIO, path(1), 0, 1});
  auto b = cache.open(path(2));
  EXPECT_FALSE(b.isOk());
  EXPECT_FALSE(cache.syncError().isOk());
  // The fault is spent, but no later fsync may claim durability (fsyncgate).
  auto c = cache.open(path(3));
  ASSERT_TRUE(c.isOk());
  ASSERT_TRUE((*c)->write(0, "y").isOk());
  EXPECT_FALSE((*c)->sync().isOk());
  EXPECT_FALSE((*a)->sync().isOk());
}

TEST(FileCacheFaultTest, ConcurrentUseOfMoreFilesThanDescriptors) {
  auto fs = std::make_shared<FaultInjectionFs>();
  CachingFileSystem cache(fs, 3);
  constexpr int kFiles = 12;
  std::vector<std::unique_ptr<File>> files;
  for (int i = 0; i < kFiles; ++i) files.push_back(cache.open(path(i)).value());
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) {
        const int i = (t * 3 + round) % kFiles;
        const std::string text = "t" + std::to_string(t) + "r" + std::to_string(round);
        // Each thread writes its own 16-byte slot of the file and reads it back; sync now and then.
        if (!files[i]->write(t * 16, text).isOk()) ++errors;
        std::string out;
        if (!files[i]->read(t * 16, text.size(), &out).isOk() || out != text) ++errors;
        if (round % 50 == 0 && !files[i]->sync().isOk()) ++errors;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_LE(fs->peakOpenFiles(), 3 + 4);  // the bound, plus files in use by the 4 threads at once
  for (auto& f : files) EXPECT_TRUE(f->sync().isOk());
}

// ---- the store --------------------------------------------------------------------------------------------

class StoreFaultTest : public ::testing::Test {
 protected:
  MessageStoreOptions options(FlushMode mode = FlushMode::kAsync) {
    MessageStoreOptions o = smallOptions(kRoot);
    o.fs = fs_;
    o.flush_mode = mode;
    o.disk_check_interval = std::chrono::milliseconds(0);  // every put looks at the disk: no timing
    return o;
  }
  std::unique_ptr<MessageStore> open(MessageStoreOptions o) {
    auto store = MessageStore::open(std::move(o));
    EXPECT_TRUE(store.isOk()) << store.status().toString();
    return store ? std::move(*store) : nullptr;
  }
  Checkpoint checkpoint() {
    auto c = readCheckpoint(*fs_, kRoot + "/checkpoint");
    EXPECT_TRUE(c.isOk()) << c.status().toString();
    return c ? *c : Checkpoint{};
  }

  std::shared_ptr<FaultInjectionFs> fs_ = std::make_shared<FaultInjectionFs>();
};

// Issue 10: one message to each queue of a 1,024-queue topic under a 64-descriptor limit; then a restart under
// the same limit (which used to reopen every file at once).
TEST_F(StoreFaultTest, AThousandQueuesUnderADescriptorLimitAndARestart) {
  constexpr int kQueues = 1024;
  fs_->setMaxOpenFiles(64);
  auto o = options();
  o.max_open_files = 1024;  // more than the limit allows: EMFILE from the system closes idle files
  {
    auto store = open(o);
    ASSERT_NE(store, nullptr);
    for (int q = 0; q < kQueues; ++q) {
      auto put = store->putMessage(makeMessage("Wide", q, "m" + std::to_string(q)));
      ASSERT_TRUE(put.isOk()) << "queue " << q << ": " << put.status().toString();
    }
    ASSERT_TRUE(store->flush().isOk());
    ASSERT_TRUE(store->close().isOk());
  }
  EXPECT_LE(fs_->peakOpenFiles(), 64);
  fs_->crash();
  auto store = open(o);
  ASSERT_NE(store, nullptr);
  for (int q = 0; q < kQueues; ++q) {
    auto msgs = readQueue(*store, "Wide", q);
    ASSERT_EQ(msgs.size(), 1u) << "queue " << q;
    EXPECT_EQ(msgs[0].body(), "m" + std::to_string(q));
  }
  EXPECT_TRUE(store->putMessage(makeMessage("Wide", 7, "after restart")).isOk());
}

TEST_F(StoreFaultTest, TheCacheBoundsTheStoresDescriptors) {
  auto o = options();
  o.max_open_files = 16;
  auto store = open(o);
  ASSERT_NE(store, nullptr);
  for (int q = 0; q < 200; ++q) ASSERT_TRUE(store->putMessage(makeMessage("T", q, "x")).isOk());
  ASSERT_TRUE(store->flush().isOk());
  EXPECT_LE(store->openFiles(), 16u);
  EXPECT_LE(fs_->peakOpenFiles(), 16 + 4);  // + metadata files written while the cache is full
  for (int q = 0; q < 200; ++q) EXPECT_EQ(readQueue(*store, "T", q).size(), 1u);
}

// EMFILE used to stop every write until a restart.
TEST_F(StoreFaultTest, OutOfDescriptorsRefusesThePutAndTheNextOneWorks) {
  auto store = open(options());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->putMessage(makeMessage("T", 0, "a")).isOk());
  fs_->addFault(FsFault{FsOp::kOpen, EMFILE, "consumequeue/T/1/"});
  auto refused = store->putMessage(makeMessage("T", 1, "refused"));
  ASSERT_FALSE(refused.isOk());
  EXPECT_TRUE(isOutOfFilesError(refused.status())) << refused.status().toString();
  EXPECT_TRUE(store->writeError().isOk());
  EXPECT_EQ(store->putsRefusedOutOfFiles(), 1u);
  // Other queues keep working meanwhile; the refused message took no offset.
  auto b = store->putMessage(makeMessage("T", 0, "b"));
  ASSERT_TRUE(b.isOk()) << b.status().toString();
  EXPECT_EQ(b->queue_offset, 1);
  fs_->clearFaults();
  auto c = store->putMessage(makeMessage("T", 1, "c"));
  ASSERT_TRUE(c.isOk()) << c.status().toString();
  EXPECT_EQ(c->queue_offset, 0);
  ASSERT_TRUE(store->flush().isOk());
  store.reset();
  fs_->crash();
  store = open(options());
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(readQueue(*store, "T", 0).size(), 2u);
  auto q1 = readQueue(*store, "T", 1);
  ASSERT_EQ(q1.size(), 1u);
  EXPECT_EQ(q1[0].body(), "c");
}

// ENOSPC used to stop every write until a restart, even after space returned.
TEST_F(StoreFaultTest, ADiskFullWriteIsRefusedUndoneAndWritesResumeWithoutRestart) {
  auto store = open(options(FlushMode::kSync));
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store->putMessage(makeMessage("T", 0, "ok" + std::to_string(i))).isOk());
  const int64_t end = store->commitLogMaxOffset();
  fs_->addFault(FsFault{FsOp::kWrite, ENOSPC, "commitlog"});
  for (int i = 0; i < 3; ++i) {
    auto refused = store->putMessage(makeMessage("T", 0, "refused"));
    ASSERT_FALSE(refused.isOk());
    EXPECT_TRUE(isDiskFullError(refused.status())) << refused.status().toString();
  }
  EXPECT_TRUE(store->writeError().isOk());
  EXPECT_EQ(store->commitLogMaxOffset(), end);
  // The half record the full disk took was truncated away.
  EXPECT_EQ(static_cast<int64_t>(fs_->contents(kRoot + "/commitlog/" + offsetFileName(0)).size()), end);
  fs_->clearFaults();
  auto next = store->putMessage(makeMessage("T", 0, "ok3"));
  ASSERT_TRUE(next.isOk()) << next.status().toString();
  EXPECT_EQ(next->queue_offset, 3);
  store.reset();
  fs_->crash();
  store = open(options());
  ASSERT_NE(store, nullptr);
  auto msgs = readQueue(*store, "T", 0);
  ASSERT_EQ(msgs.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(msgs[i].body(), "ok" + std::to_string(i));
}

TEST_F(StoreFaultTest, ADiskFullSegmentRollIsUndone) {
  auto o = options(FlushMode::kSync);
  o.commit_log_segment_size = 4096;
  auto store = open(o);
  ASSERT_NE(store, nullptr);
  // The second segment cannot be created: its put is refused after the first segment was sealed.
  fs_->addFault(FsFault{FsOp::kOpen, ENOSPC, "commitlog/" + offsetFileName(4096)});
  std::vector<std::string> acked;
  int refused = 0;
  for (int i = 0; i < 40; ++i) {
    const std::string body = "m" + std::to_string(i) + std::string(300, 'x');
    auto put = store->putMessage(makeMessage("T", 0, body));
    if (put.isOk()) {
      acked.push_back(body);
    } else {
      EXPECT_TRUE(isDiskFullError(put.status())) << put.status().toString();
      ++refused;
      if (refused == 2) fs_->clearFaults();
    }
  }
  EXPECT_EQ(refused, 2);
  EXPECT_TRUE(store->writeError().isOk());
  EXPECT_GE(store->commitLogSegmentCount(), 2u);
  store.reset();
  fs_->crash();
  store = open(o);
  ASSERT_NE(store, nullptr);
  auto msgs = readQueue(*store, "T", 0);
  ASSERT_EQ(msgs.size(), acked.size());
  for (size_t i = 0; i < acked.size(); ++i) EXPECT_EQ(msgs[i].body(), acked[i]);
}

// The send run: the disk fills during it, then is freed. Refused sends say so, no acknowledged
// message is lost, and writes resume without a restart.
TEST_F(StoreFaultTest, ASendRunThroughAFullDiskLosesNoAcknowledgedMessage) {
  auto store = open(options(FlushMode::kSync));
  ASSERT_NE(store, nullptr);
  std::map<int, std::vector<std::string>> acked;
  int refused = 0;
  for (int i = 0; i < 300; ++i) {
    if (i == 100) fs_->addFault(FsFault{FsOp::kWrite, ENOSPC, ""});
    if (i == 160) fs_->setUsedRatio([] { return 0.97; });  // the disk stays over the limit
    if (i == 200) {
      fs_->clearFaults();
      fs_->setUsedRatio([] { return 0.5; });  // space returns
    }
    const std::string body = "send-" + std::to_string(i);
    auto put = store->putMessage(makeMessage("Run", i % 4, body));
    if (put.isOk()) {
      acked[i % 4].push_back(body);
    } else {
      EXPECT_TRUE(isDiskFullError(put.status())) << i << ": " << put.status().toString();
      ++refused;
    }
  }
  EXPECT_EQ(refused, 100);
  EXPECT_TRUE(store->writeError().isOk());
  store.reset();
  fs_->crash();
  store = open(options());
  ASSERT_NE(store, nullptr);
  for (int q = 0; q < 4; ++q) {
    auto msgs = readQueue(*store, "Run", q);
    ASSERT_EQ(msgs.size(), acked[q].size()) << "queue " << q;
    for (size_t i = 0; i < msgs.size(); ++i) EXPECT_EQ(msgs[i].body(), acked[q][i]);
  }
}

TEST_F(StoreFaultTest, DiskUsageOverTheLimitRefusesPutsUntilItDrops) {
  auto o = options();
  o.disk_full_ratio = 0.9;
  auto store = open(o);
  ASSERT_NE(store, nullptr);
  fs_->setUsedRatio([] { return 0.95; });
  auto refused = store->putMessage(makeMessage("T", 0, "x"));
  ASSERT_FALSE(refused.isOk());
  EXPECT_TRUE(isDiskFullError(refused.status()));
  EXPECT_NE(refused.status().message().find("disk full"), std::string::npos) << refused.status().toString();
  EXPECT_TRUE(store->diskFull());
  fs_->setUsedRatio([] { return 0.5; });
  EXPECT_TRUE(store->putMessage(makeMessage("T", 0, "y")).isOk());
  EXPECT_FALSE(store->diskFull());
  EXPECT_EQ(store->maxOffset("T", 0), 1);
}

// fsyncgate: a failed commit-log fsync is never retried; writes stop until the store is reopened.
TEST_F(StoreFaultTest, ACommitLogFsyncErrorStopsWritesUntilRestart) {
  auto store = open(options(FlushMode::kSync));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->putMessage(makeMessage("T", 0, "a")).isOk());
  fs_->addFault(FsFault{FsOp::kSync, EIO, "commitlog", 0, 1});
  EXPECT_FALSE(store->putMessage(makeMessage("T", 0, "b")).isOk());
  // The fault is spent, yet nothing is accepted or declared durable any more.
  EXPECT_FALSE(store->writeError().isOk());
  EXPECT_FALSE(store->putMessage(makeMessage("T", 0, "c")).isOk());
  EXPECT_FALSE(store->flush().isOk());
  EXPECT_EQ(readQueue(*store, "T", 0).size(), 1u) << "reads go on";
  store.reset();
  store = open(options(FlushMode::kSync));
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->putMessage(makeMessage("T", 0, "d")).isOk());
}

// Some filesystems (thin provisioning, NFS) fail fsync with ENOSPC: still a failed fsync, not a passing full disk.
TEST_F(StoreFaultTest, AnFsyncFailingWithEnospcStopsWritesToo) {
  auto store = open(options(FlushMode::kSync));
  ASSERT_NE(store, nullptr);
  fs_->addFault(FsFault{FsOp::kSync, ENOSPC, "commitlog", 0, 1});
  auto failed = store->putMessage(makeMessage("T", 0, "a"));
  ASSERT_FALSE(failed.isOk());
  EXPECT_FALSE(isDiskFullError(failed.status())) << failed.status().toString();
  auto later = store->putMessage(makeMessage("T", 0, "b"));
  ASSERT_FALSE(later.isOk());
  EXPECT_FALSE(isDiskFullError(later.status())) << later.status().toString();
  EXPECT_NE(later.status().message().find("until restart"), std::string::npos) << later.status().toString();
}

// A consume-queue fsync failure used to be retried by the next flush, and the checkpoint then moved past
// entries that never reached the disk.
TEST_F(StoreFaultTest, AConsumeQueueFsyncErrorIsNeverRetriedAndTheCheckpointStays) {
  auto store = open(options());
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store->putMessage(makeMessage("T", 0, "a")).isOk());
  ASSERT_TRUE(store->flush().isOk());
  const Checkpoint before = checkpoint();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store->putMessage(makeMessage("T", 0, "b")).isOk());
  fs_->addFault(FsFault{FsOp::kSync, EIO, "consumequeue", 0, 1});
  EXPECT_FALSE(store->flush().isOk());
  EXPECT_FALSE(store->flush().isOk()) << "a second flush must not retry the failed fsync";
  const Checkpoint after = checkpoint();
  EXPECT_EQ(after.consume_queue_offset, before.consume_queue_offset);
  EXPECT_EQ(after.commit_log_offset, before.commit_log_offset);
  EXPECT_FALSE(store->writeError().isOk());
  EXPECT_FALSE(store->putMessage(makeMessage("T", 0, "c")).isOk());
  EXPECT_EQ(readQueue(*store, "T", 0).size(), 10u) << "reads go on";
}

// Recovery used to write a checkpoint, so a full disk also prevented a start.
TEST_F(StoreFaultTest, OpensAndServesReadsOnAFullDisk) {
  {
    auto store = open(options());
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(store->putMessage(makeMessage("T", i % 2, "m")).isOk());
    ASSERT_TRUE(store->close().isOk());
  }
  fs_->addFault(FsFault{FsOp::kWrite, ENOSPC, ""});
  fs_->addFault(FsFault{FsOp::kOpen, ENOSPC, ".tmp"});  // no new file either
  fs_->setUsedRatio([] { return 1.0; });
  auto store = open(options());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(readQueue(*store, "T", 0).size(), 5u);
  EXPECT_EQ(readQueue(*store, "T", 1).size(), 5u);
  auto refused = store->putMessage(makeMessage("T", 0, "x"));
  ASSERT_FALSE(refused.isOk());
  EXPECT_TRUE(isDiskFullError(refused.status())) << refused.status().toString();
  fs_->clearFaults();
  fs_->setUsedRatio([] { return 0.2; });
  ASSERT_TRUE(store->putMessage(makeMessage("T", 0, "y")).isOk());
  EXPECT_TRUE(store->flush().isOk());
  EXPECT_EQ(readQueue(*store, "T", 0).size(), 6u);
}

TEST_F(StoreFaultTest, AnIoErrorOnAWriteStopsWrites) {
  auto store = open(options());
  ASSERT_NE(store, nullptr);
  fs_->addFault(FsFault{FsOp::kWrite, EIO, "commitlog", 0, 1});
  EXPECT_FALSE(store->putMessage(makeMessage("T", 0, "a")).isOk());
  EXPECT_FALSE(store->writeError().isOk());
  EXPECT_FALSE(store->putMessage(makeMessage("T", 0, "b")).isOk());
}

}  // namespace
}  // namespace rocketrpc::store
