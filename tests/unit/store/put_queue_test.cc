// MessageStore's put queue (issue 10 item 3): puts are written by the appender thread, never by the caller
// (the broker calls putMessagesAsync on its I/O threads), and the queue is bounded in time (max_queue_wait)
// and bytes (max_queued_bytes) with Apache's fast-failure texts. The writer is held inside a write by a gated
// file system, so what is queued at each step is known; no assertion depends on how fast anything runs.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "gated_fs.h"
#include "store/message_store.h"
#include "store_test_util.h"

namespace rocketrpc::store {
namespace {

using testing::GatedFs;
using testing::makeMessage;
using testing::ScratchDir;

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
  std::shared_ptr<GatedFs> fs_ = std::make_shared<GatedFs>(GatedFs::Gate::kWrites);
};

TEST_P(PutQueueTest, TheCallerNeverWrites) {
  auto store = open(std::chrono::milliseconds(0), 0);
  ASSERT_TRUE(store);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(put(*store, 0, 100).get().isOk());
  ASSERT_TRUE(store->putMessage(makeMessage("QueueTopic", 1, "sync form")).isOk());
  auto writers = fs_->passed();
  ASSERT_FALSE(writers.empty());
  for (const auto& id : writers)
    EXPECT_NE(id, std::this_thread::get_id()) << "a put wrote on its caller's thread";
}

TEST_P(PutQueueTest, APutThatWaitedTooLongIsAnsweredBusyAndNotStored) {
  auto store = open(std::chrono::milliseconds(50), 0);
  ASSERT_TRUE(store);
  fs_->closeGate();
  auto first = put(*store, 0, 100);
  // The writer holds `first`; what comes next queues behind it.
  ASSERT_TRUE(fs_->awaitHeld()) << "no put reached the commit log";
  auto late = put(*store, 1, 100);
  std::this_thread::sleep_for(std::chrono::milliseconds(120));  // only ever longer than max_queue_wait
  fs_->openGate();
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
  fs_->closeGate();
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
  fs_->openGate();
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
