// MessageStore's put queue (issue 10 item 3): puts are written by the appender thread, never by the caller
// (the broker calls putMessagesAsync on its I/O threads), and the queue is bounded in time (max_queue_wait)
// and bytes (max_queued_bytes) with Apache's fast-failure texts. The writer is held inside a write by a gated
// file system, so what is queued at each step is known; no assertion depends on how fast anything runs.
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "store/message_store.h"
#include "store_test_util.h"

namespace rocketrpc::store {
namespace {

using testing::makeMessage;
using testing::ScratchDir;

// The POSIX file system, with commit-log writes that wait at a gate once it is closed, and a record of the
// threads that wrote.
class GatedFs final : public FileSystem {
 public:
  GatedFs() : base_(posixFileSystem()) {}

  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  void open() {
    {
      std::lock_guard lock(mu_);
      closed_ = false;
    }
    cv_.notify_all();
  }
  // Waits until a writer is held at the closed gate; false (the gate opened again) if none comes within a
  // minute, as when the put was refused before writing, so that the test fails instead of hanging.
  bool awaitHeld() {
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, std::chrono::minutes(1), [&] { return held_ > 0; })) return true;
    closed_ = false;
    return false;
  }
  std::vector<std::thread::id> writers() {
    std::lock_guard lock(mu_);
    return writers_;
  }

  Result<std::unique_ptr<File>> open(const std::string& path) override {
    auto file = base_->open(path);
    if (!file) return file.status();
    if (path.find("/commitlog/") == std::string::npos) return file;
    return std::unique_ptr<File>(std::make_unique<GatedFile>(this, std::move(*file)));
  }
  bool exists(const std::string& path) override { return base_->exists(path); }
  Result<std::vector<std::string>> list(const std::string& dir) override { return base_->list(dir); }
  Status createDirs(const std::string& dir) override { return base_->createDirs(dir); }
  Status remove(const std::string& path) override { return base_->remove(path); }
  Status rename(const std::string& from, const std::string& to) override { return base_->rename(from, to); }
  Status syncDir(const std::string& dir) override { return base_->syncDir(dir); }
  Result<int64_t> modifiedTimeMs(const std::string& path) override { return base_->modifiedTimeMs(path); }
  Result<double> usedRatio(const std::string& path) override { return base_->usedRatio(path); }

 private:
  class GatedFile final : public File {
   public:
    GatedFile(GatedFs* fs, std::unique_ptr<File> base) : fs_(fs), base_(std::move(base)) {}
    Status write(int64_t offset, std::string_view data) override {
      fs_->pass();
      return base_->write(offset, data);
    }
    Status read(int64_t offset, size_t n, std::string* out) const override {
      return base_->read(offset, n, out);
    }
    Status sync() override { return base_->sync(); }
    Status truncate(int64_t size) override { return base_->truncate(size); }
    Result<int64_t> size() const override { return base_->size(); }

   private:
    GatedFs* fs_;
    std::unique_ptr<File> base_;
  };

  void pass() {
    std::unique_lock lock(mu_);
    writers_.push_back(std::this_thread::get_id());
    ++held_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !closed_; });
    --held_;
  }

  std::shared_ptr<FileSystem> base_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  int held_ = 0;
  std::vector<std::thread::id> writers_;
};

class PutQueueTest : public ::testing::TestWithParam<FlushMode> {
 protected:
  std::unique_ptr<MessageStore> open(std::chrono::milliseconds max_wait, int64_t max_bytes) {
    MessageStoreOptions o;
    o.root_dir = dir_.path();
    o.fs = fs_;
    o.commit_log_segment_size = 1 << 20;
    o.flush_interval = std::chrono::milliseconds(0);
    o.flush_mode = GetParam();
    o.max_queue_wait = max_wait;
    o.max_queued_bytes = max_bytes;
    o.disk_full_ratio = 1.0;  // independent of how full the machine's disk is
    o.disk_max_used_ratio = 1.0;
    auto store = MessageStore::open(std::move(o));
    EXPECT_TRUE(store.isOk()) << store.status().toString();
    return store ? std::move(*store) : nullptr;
  }

  // Starts a put; the future gets its result.
  std::future<Result<PutResult>> put(MessageStore& store, int32_t queue_id, size_t body_bytes) {
    auto promise = std::make_shared<std::promise<Result<PutResult>>>();
    auto future = promise->get_future();
    std::vector<MessageExt> msgs;
    msgs.push_back(makeMessage("QueueTopic", queue_id, std::string(body_bytes, 'x')));
    store.putMessagesAsync(std::move(msgs),
                           [promise](Result<PutResult> r) { promise->set_value(std::move(r)); });
    return future;
  }

  ScratchDir dir_;
  std::shared_ptr<GatedFs> fs_ = std::make_shared<GatedFs>();
};

TEST_P(PutQueueTest, TheCallerNeverWrites) {
  auto store = open(std::chrono::milliseconds(0), 0);
  ASSERT_TRUE(store);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(put(*store, 0, 100).get().isOk());
  ASSERT_TRUE(store->putMessage(makeMessage("QueueTopic", 1, "sync form")).isOk());
  auto writers = fs_->writers();
  ASSERT_FALSE(writers.empty());
  for (const auto& id : writers)
    EXPECT_NE(id, std::this_thread::get_id()) << "a put wrote on its caller's thread";
}

TEST_P(PutQueueTest, APutThatWaitedTooLongIsAnsweredBusyAndNotStored) {
  auto store = open(std::chrono::milliseconds(50), 0);
  ASSERT_TRUE(store);
  fs_->close();
  auto first = put(*store, 0, 100);
  // The writer holds `first`; what comes next queues behind it.
  ASSERT_TRUE(fs_->awaitHeld()) << "no put reached the commit log";
  auto late = put(*store, 1, 100);
  std::this_thread::sleep_for(std::chrono::milliseconds(120));  // only ever longer than max_queue_wait
  fs_->open();
  ASSERT_TRUE(first.get().isOk());
  auto r = late.get();
  ASSERT_FALSE(r.isOk());
  EXPECT_TRUE(isStoreBusy(r.status())) << r.status().toString();
  EXPECT_TRUE(r.status().message().starts_with(
      "[TIMEOUT_CLEAN_QUEUE]broker busy, start flow control for a while, period in queue: "))
      << r.status().message();
  EXPECT_TRUE(r.status().message().ends_with("ms, size of queue: 0")) << r.status().message();
  EXPECT_EQ(store->maxOffset("QueueTopic", 1), 0) << "a refused put must not be stored";
  // Not a sticky error: the next put is stored.
  auto next = put(*store, 1, 100).get();
  ASSERT_TRUE(next.isOk()) << next.status().toString();
  EXPECT_EQ(next->queue_offset, 0);
}

TEST_P(PutQueueTest, APutPastTheByteBudgetIsRefusedAtOnce) {
  auto store = open(std::chrono::milliseconds(0), 1000);
  ASSERT_TRUE(store);
  fs_->close();
  auto first = put(*store, 0, 900);  // taken by the writer at once: the budget counts what waits
  ASSERT_TRUE(fs_->awaitHeld()) << "no put reached the commit log";
  auto queued = put(*store, 1, 600);
  auto refused = put(*store, 2, 600);  // 600 + 600 > 1000
  ASSERT_EQ(refused.wait_for(std::chrono::seconds(0)), std::future_status::ready) << "refused inline";
  auto r = refused.get();
  ASSERT_FALSE(r.isOk());
  EXPECT_TRUE(isStoreBusy(r.status())) << r.status().toString();
  EXPECT_TRUE(r.status().message().starts_with(
      "[PCBUSY_CLEAN_QUEUE]broker busy, start flow control for a while, period in queue: "))
      << r.status().message();
  EXPECT_TRUE(r.status().message().ends_with("ms, size of queue: 1")) << r.status().message();
  auto fits = put(*store, 3, 400);  // 600 + 400 <= 1000
  fs_->open();
  EXPECT_TRUE(first.get().isOk());
  EXPECT_TRUE(queued.get().isOk());
  EXPECT_TRUE(fits.get().isOk());
  EXPECT_EQ(store->maxOffset("QueueTopic", 2), 0);
  // The budget is given back as the writer takes puts: a large put into an empty queue is always taken.
  EXPECT_TRUE(put(*store, 2, 5000).get().isOk());
}

TEST(PutQueueStatus, OnlyTheFastFailureTextsAreBusy) {
  EXPECT_TRUE(
      isStoreBusy(Status::overLimit("[TIMEOUT_CLEAN_QUEUE]broker busy, start flow control for a while, "
                                    "period in queue: 201ms, size of queue: 3")));
  EXPECT_TRUE(
      isStoreBusy(Status::overLimit("[PCBUSY_CLEAN_QUEUE]broker busy, start flow control for a while, period "
                                    "in queue: 0ms, size of queue: 9")));
  EXPECT_FALSE(isStoreBusy(Status::overLimit("store directory is in use")));
  EXPECT_FALSE(isStoreBusy(Status::internal("[TIMEOUT_CLEAN_QUEUE]broker busy")));
}

INSTANTIATE_TEST_SUITE_P(FlushModes, PutQueueTest, ::testing::Values(FlushMode::kAsync, FlushMode::kSync),
                         [](const auto& info) { return info.param == FlushMode::kAsync ? "Async" : "Sync"; });

}  // namespace
}  // namespace rocketrpc::store
