// MessageStore: puts and reads, group commit under concurrent writers, getMessages statuses, timestamps,
// listener, retention, consumer offsets, lifecycle.
#include "store/message_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <set>
#include <thread>

#include "fault_injection_fs.h"
#include "store_test_util.h"

namespace rocketrpc::store {
namespace {

using testing::decodeAll;
using testing::FakeClock;
using testing::FaultInjectionFs;
using testing::makeMessage;
using testing::readQueue;
using testing::ScratchDir;
using testing::smallOptions;

class MessageStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<MessageStore> open(MessageStoreOptions o) {
    auto store = MessageStore::open(std::move(o));
    EXPECT_TRUE(store.isOk()) << store.status().toString();
    return store ? std::move(*store) : nullptr;
  }
  std::unique_ptr<MessageStore> openDefault() {
    auto o = smallOptions(dir_.path());
    o.clock = clock_.fn();
    return open(std::move(o));
  }

  ScratchDir dir_;
  FakeClock clock_;
};

TEST_F(MessageStoreTest, PutAndGetRoundTrip) {
  auto store = openDefault();
  auto put = store->putMessage(makeMessage("TopicA", 1, "hello", "TagA"));
  ASSERT_TRUE(put.isOk()) << put.status().toString();
  EXPECT_EQ(put->queue_offset, 0);
  EXPECT_EQ(put->physical_offset, 0);
  EXPECT_EQ(put->store_timestamp, clock_.now());
  ASSERT_EQ(put->offset_msg_ids.size(), 1u);
  EXPECT_EQ(put->offset_msg_ids[0], *remoting::createOffsetMessageId("127.0.0.1:10911", 0));

  auto got = store->getMessages("TopicA", 1, 0, 32, 1 << 20);
  ASSERT_TRUE(got.isOk());
  EXPECT_EQ(got->status, GetMessageStatus::kFound);
  EXPECT_EQ(got->next_begin_offset, 1);
  EXPECT_EQ(got->min_offset, 0);
  EXPECT_EQ(got->max_offset, 1);
  auto msgs = decodeAll(got->data);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].body(), "hello");
  EXPECT_EQ(msgs[0].tags(), "TagA");
  EXPECT_EQ(msgs[0].queueId(), 1);
  EXPECT_EQ(msgs[0].queueOffset(), 0);
  EXPECT_EQ(msgs[0].commitLogOffset(), 0);
  EXPECT_EQ(msgs[0].storeTimestamp(), clock_.now());
  EXPECT_EQ(msgs[0].bornHost(), "10.0.0.1:4321");
  EXPECT_EQ(msgs[0].storeHost(), "127.0.0.1:10911");

  auto by_offset = store->getMessageByPhysicalOffset(put->physical_offset);
  ASSERT_TRUE(by_offset.isOk());
  EXPECT_EQ(*by_offset, got->data);
  EXPECT_EQ(store->getMessageByPhysicalOffset(7).status().code(), StatusCode::kNotFound);
}

TEST_F(MessageStoreTest, RoundTripAcrossSegmentRollsAndRestart) {
  std::vector<PutResult> puts;
  {
    auto store = openDefault();
    for (int i = 0; i < 300; ++i) {
      auto put = store->putMessage(
          makeMessage("T", i % 2, std::string(200 + i * 3, static_cast<char>('a' + i % 26))));
      ASSERT_TRUE(put.isOk());
      puts.push_back(*put);
    }
    EXPECT_GE(store->commitLogSegmentCount(), 4u);
    ASSERT_TRUE(store->close().isOk());
  }
  auto store = openDefault();
  for (int q = 0; q < 2; ++q) {
    auto msgs = readQueue(*store, "T", q);
    ASSERT_EQ(msgs.size(), 150u);
    for (size_t k = 0; k < msgs.size(); ++k) {
      const PutResult& put = puts[k * 2 + q];
      EXPECT_EQ(msgs[k].queueOffset(), static_cast<int64_t>(k));
      EXPECT_EQ(msgs[k].commitLogOffset(), put.physical_offset);
      EXPECT_EQ(msgs[k].body().size(), static_cast<size_t>(200 + (k * 2 + q) * 3));
    }
  }
  auto next = store->putMessage(makeMessage("T", 0, "after"));
  ASSERT_TRUE(next.isOk());
  EXPECT_EQ(next->queue_offset, 150);
  EXPECT_EQ(next->physical_offset, puts.back().physical_offset + puts.back().total_bytes);
}

TEST_F(MessageStoreTest, ConcurrentWritersGetContiguousQueueOffsets) {
  auto store = openDefault();
  constexpr int kThreads = 6;
  constexpr int kPerThread = 150;
  constexpr int kQueues = 3;
  std::vector<std::vector<std::pair<int64_t, std::string>>> acked(
      kThreads);  // (queue offset, body) per queue
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string body = std::to_string(t) + ":" + std::to_string(i);
        if (i % 10 == 0) {  // some batches
          std::vector<MessageExt> batch{makeMessage("C", t % kQueues, body + "a"),
                                        makeMessage("C", t % kQueues, body + "b")};
          auto put = store->putMessages(std::move(batch));
          ASSERT_TRUE(put.isOk());
          ASSERT_EQ(put->message_count, 2);
          acked[t].emplace_back(put->queue_offset, body + "a");
          acked[t].emplace_back(put->queue_offset + 1, body + "b");
        } else {
          auto put = store->putMessage(makeMessage("C", t % kQueues, body));
          ASSERT_TRUE(put.isOk());
          acked[t].emplace_back(put->queue_offset, body);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int q = 0; q < kQueues; ++q) {
    std::map<int64_t, std::string> expected;
    for (int t = q; t < kThreads; t += kQueues) {
      for (const auto& [offset, body] : acked[t]) ASSERT_TRUE(expected.emplace(offset, body).second);
    }
    auto msgs = readQueue(*store, "C", q);
    ASSERT_EQ(msgs.size(), expected.size());
    EXPECT_EQ(store->maxOffset("C", q), static_cast<int64_t>(expected.size()));
    for (const auto& m : msgs) EXPECT_EQ(expected.at(m.queueOffset()), m.body());
  }
}

TEST_F(MessageStoreTest, ReadersAndBackgroundServiceRunAlongsideWriters) {
  // Background flush and retention every millisecond, retention age zero: sealed segments vanish while
  // readers read. Readers must see only whole, increasing messages or OFFSET_TOO_SMALL, never an error.
  auto o = smallOptions(dir_.path());
  o.commit_log_segment_size = 16 * 1024;
  o.flush_interval = std::chrono::milliseconds(1);
  o.clean_interval = std::chrono::milliseconds(1);
  o.file_retention = std::chrono::milliseconds(0);
  auto store = open(o);
  std::atomic<bool> writing{true};
  std::thread reader([&] {
    int64_t offset = 0;
    int64_t last_seen = -1;
    while (writing.load() || offset < store->maxOffset("B", 0)) {
      auto r = store->getMessages("B", 0, offset, 16, 1 << 20);
      ASSERT_TRUE(r.isOk());
      for (const auto& m : decodeAll(r->data)) {
        EXPECT_GT(m.queueOffset(), last_seen);
        EXPECT_EQ(m.body(), std::string(300, static_cast<char>('a' + m.queueOffset() % 26)));
        last_seen = m.queueOffset();
      }
      if (r->status != GetMessageStatus::kNoMessageInQueue) offset = r->next_begin_offset;
    }
  });
  std::vector<std::thread> writers;
  std::mutex mu;
  for (int t = 0; t < 2; ++t) {
    writers.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        // Bodies are derived from the queue offset, which only the store knows: serialize per queue.
        std::lock_guard lock(mu);
        const int64_t next = store->maxOffset("B", 0);
        ASSERT_TRUE(
            store->putMessage(makeMessage("B", 0, std::string(300, static_cast<char>('a' + next % 26))))
                .isOk());
      }
    });
  }
  for (auto& w : writers) w.join();
  writing = false;
  reader.join();
  EXPECT_EQ(store->maxOffset("B", 0), 400);
  ASSERT_TRUE(store->close().isOk());
  o.flush_interval = std::chrono::milliseconds(0);
  auto reopened = open(o);
  EXPECT_EQ(reopened->maxOffset("B", 0), 400);
  ASSERT_TRUE(reopened->deleteExpiredFiles().isOk());
  EXPECT_EQ(reopened->commitLogSegmentCount(), 1u);
  EXPECT_EQ(reopened->getMessages("B", 0, 0, 1, 1 << 20)->status, GetMessageStatus::kOffsetTooSmall);
}

TEST_F(MessageStoreTest, GetMessagesStatuses) {
  auto store = openDefault();
  auto none = store->getMessages("Nope", 0, 5, 32, 1 << 20);
  EXPECT_EQ(none->status, GetMessageStatus::kNoMessageInQueue);
  EXPECT_EQ(none->next_begin_offset, 0);
  EXPECT_EQ(getMessageStatusName(none->status), "NO_MESSAGE_IN_QUEUE");

  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(store->putMessage(makeMessage("S", 0, std::string(100, 'x'), i % 2 ? "odd" : "even")).isOk());
  }
  auto one = store->getMessages("S", 0, 10, 32, 1 << 20);
  EXPECT_EQ(one->status, GetMessageStatus::kOffsetOverflowOne);
  EXPECT_EQ(one->next_begin_offset, 10);
  auto badly = store->getMessages("S", 0, 15, 32, 1 << 20);
  EXPECT_EQ(badly->status, GetMessageStatus::kOffsetOverflowBadly);
  EXPECT_EQ(badly->next_begin_offset, 0);  // min offset 0: back to the start

  // Tag filter: only "odd" (tags code = Java hash).
  const int64_t odd = remoting::javaStringHash("odd");
  auto filtered = store->getMessages("S", 0, 0, 3, 1 << 20, [odd](int64_t code) { return code == odd; });
  EXPECT_EQ(filtered->status, GetMessageStatus::kFound);
  EXPECT_EQ(filtered->message_count, 3);
  EXPECT_EQ(filtered->next_begin_offset, 6);  // 1, 3, 5 taken; stops before 6
  for (const auto& m : decodeAll(filtered->data)) EXPECT_EQ(m.tags(), "odd");
  auto unmatched = store->getMessages("S", 0, 2, 32, 1 << 20, [](int64_t) { return false; });
  EXPECT_EQ(unmatched->status, GetMessageStatus::kNoMatchedMessage);
  EXPECT_EQ(unmatched->next_begin_offset, 10);
  EXPECT_TRUE(unmatched->data.empty());

  // max_bytes: at least one message, then whole messages only.
  auto small = store->getMessages("S", 0, 0, 32, 10);
  EXPECT_EQ(small->message_count, 1);
  EXPECT_EQ(small->next_begin_offset, 1);
  const auto record = static_cast<int32_t>(small->data.size());
  auto two = store->getMessages("S", 0, 4, 32, 2 * record + record / 2);
  EXPECT_EQ(two->message_count, 2);
  EXPECT_EQ(two->next_begin_offset, 6);
  EXPECT_EQ(store->getMessages("S", 0, 0, 0, 10).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(MessageStoreTest, InvalidMessagesAreRejectedWithoutConsumingOffsets) {
  auto o = smallOptions(dir_.path());
  o.max_message_size = 2048;
  auto store = open(o);
  EXPECT_EQ(store->putMessage(makeMessage("bad/topic", 0, "x")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store->putMessage(makeMessage("T", -1, "x")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->putMessage(makeMessage("T", 0, std::string(4096, 'x'))).status().code(),
            StatusCode::kInvalidArgument);
  // Body fits but the record with its headers does not: caught by the appender.
  EXPECT_EQ(store->putMessage(makeMessage("T", 0, std::string(2000, 'x'))).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store->putMessages({}).status().code(), StatusCode::kInvalidArgument);
  auto ok = store->putMessage(makeMessage("T", 0, "fine"));
  ASSERT_TRUE(ok.isOk());
  EXPECT_EQ(ok->queue_offset, 0);
  EXPECT_EQ(ok->physical_offset, 0);
}

TEST_F(MessageStoreTest, SearchOffsetByTimestampAndEarliestStoreTime) {
  auto store = openDefault();
  const int64_t t0 = clock_.now();
  for (int64_t delta : {0, 0, 1000, 2000, 2000, 3000}) {
    clock_.advance(t0 + delta - clock_.now());
    ASSERT_TRUE(store->putMessage(makeMessage("S", 0, "m")).isOk());
  }
  auto search = [&](int64_t ts, BoundaryType b) { return *store->searchOffsetByTimestamp("S", 0, ts, b); };
  EXPECT_EQ(search(t0, BoundaryType::kLower), 0);
  EXPECT_EQ(search(t0, BoundaryType::kUpper), 1);
  EXPECT_EQ(search(t0 + 2000, BoundaryType::kLower), 3);
  EXPECT_EQ(search(t0 + 2000, BoundaryType::kUpper), 4);
  EXPECT_EQ(search(t0 + 1500, BoundaryType::kLower), 3);
  EXPECT_EQ(search(t0 + 1500, BoundaryType::kUpper), 2);
  EXPECT_EQ(search(t0 - 1, BoundaryType::kLower), 0);
  EXPECT_EQ(search(t0 - 1, BoundaryType::kUpper), 0);
  EXPECT_EQ(search(t0 + 9999, BoundaryType::kLower), 6);
  EXPECT_EQ(search(t0 + 9999, BoundaryType::kUpper), 5);
  EXPECT_EQ(*store->searchOffsetByTimestamp("Nope", 0, t0), 0);
  EXPECT_EQ(*store->earliestStoreTime("S", 0), t0);
  EXPECT_EQ(store->earliestStoreTime("Nope", 0).status().code(), StatusCode::kNotFound);
}

TEST_F(MessageStoreTest, StoreTimestampsNeverGoBackwards) {
  auto store = openDefault();
  auto first = store->putMessage(makeMessage("S", 0, "a"));
  clock_.advance(-5000);
  auto second = store->putMessage(makeMessage("S", 0, "b"));
  EXPECT_EQ(second->store_timestamp, first->store_timestamp);
}

class RecordingListener : public MessageArrivedListener {
 public:
  void onMessageArrived(const ArrivedMessage& m) override {
    std::lock_guard lock(mu);
    seen.push_back({m.topic, m.queue_id, m.queue_offset, m.tags_code, m.physical_offset, std::string(m.record)});
  }
  struct Arrival {
    std::string topic;
    int32_t queue_id;
    int64_t queue_offset;
    int64_t tags_code;
    int64_t physical_offset;
    std::string record;
  };
  std::mutex mu;
  std::vector<Arrival> seen;
};

TEST_F(MessageStoreTest, ListenerIsNotifiedBeforeTheAck) {
  auto store = openDefault();
  auto listener = std::make_shared<RecordingListener>();
  store->setMessageArrivedListener(listener);
  ASSERT_TRUE(store->putMessage(makeMessage("L", 2, "x", "TagX")).isOk());
  ASSERT_TRUE(store->putMessage(makeMessage("L", 2, "y")).isOk());
  std::lock_guard lock(listener->mu);
  ASSERT_EQ(listener->seen.size(), 2u);
  EXPECT_EQ(listener->seen[0].topic, "L");
  EXPECT_EQ(listener->seen[0].queue_id, 2);
  EXPECT_EQ(listener->seen[1].queue_offset, 1);
  EXPECT_EQ(listener->seen[0].tags_code, remoting::javaStringHash("TagX"));
  EXPECT_EQ(listener->seen[1].tags_code, 0);
  // The record handed to the listener is the one readers get.
  auto stored = store->getMessageByPhysicalOffset(listener->seen[1].physical_offset);
  ASSERT_TRUE(stored.isOk());
  EXPECT_EQ(*stored, listener->seen[1].record);
  auto got = store->getMessages("L", 2, 1, 1, 1 << 20);
  ASSERT_TRUE(got.isOk());
  EXPECT_EQ(got->data, listener->seen[1].record);
}

TEST_F(MessageStoreTest, AsyncModeWritesOnTheAppenderThread) {
  auto store = openDefault();  // kAsync
  // The broker puts from its I/O threads: the write (and a segment roll) must not run on the caller's thread.
  std::promise<std::pair<std::thread::id, int64_t>> done;
  store->putMessagesAsync({makeMessage("W", 0, "x")}, [&](Result<PutResult> r) {
    EXPECT_TRUE(r.isOk());
    done.set_value({std::this_thread::get_id(), r.isOk() ? r->queue_offset : -1});
  });
  auto [done_on, queue_offset] = done.get_future().get();
  EXPECT_NE(done_on, std::this_thread::get_id());
  EXPECT_EQ(queue_offset, 0);
  EXPECT_EQ(store->maxOffset("W", 0), 1);
}

TEST_F(MessageStoreTest, SyncModeWritesOnTheAppenderThread) {
  auto o = smallOptions(dir_.path());
  o.clock = clock_.fn();
  o.flush_mode = FlushMode::kSync;
  auto store = open(std::move(o));
  std::promise<std::thread::id> done_on;
  store->putMessagesAsync({makeMessage("W", 0, "x")}, [&](Result<PutResult> r) {
    EXPECT_TRUE(r.isOk());
    done_on.set_value(std::this_thread::get_id());
  });
  EXPECT_NE(done_on.get_future().get(), std::this_thread::get_id());
  EXPECT_EQ(store->commitLogFlushedOffset(), store->commitLogMaxOffset());
}

TEST_F(MessageStoreTest, PutCallbackMayStartAnotherPut) {
  for (FlushMode mode : {FlushMode::kAsync, FlushMode::kSync}) {
    ScratchDir dir;
    auto o = smallOptions(dir.path());
    o.clock = clock_.fn();
    o.flush_mode = mode;
    auto store = open(std::move(o));
    std::promise<int64_t> second;
    store->putMessagesAsync({makeMessage("R", 0, "first")}, [&](Result<PutResult> r) {
      if (!r.isOk()) {  // fail the test, never leave the promise unset (the test would hang)
        ADD_FAILURE() << r.status().toString();
        second.set_value(-1);
        return;
      }
      // Queued behind the current group and written by the same writer once this callback returns.
      store->putMessagesAsync({makeMessage("R", 0, "second")}, [&](Result<PutResult> r2) {
        EXPECT_TRUE(r2.isOk()) << r2.status().toString();
        second.set_value(r2.isOk() ? r2->queue_offset : -1);
      });
    });
    EXPECT_EQ(second.get_future().get(), 1);
    auto msgs = readQueue(*store, "R", 0);
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_EQ(msgs[1].body(), "second");
  }
}

TEST_F(MessageStoreTest, ConsumerOffsetsSurviveRestart) {
  {
    auto store = openDefault();
    store->consumerOffsets().set("G", "T", 0, 42);
    store->consumerOffsets().set("G", "T", 3, 7);
    store->consumerOffsets().set("H", "T", 0, 1);
    store->consumerOffsets().remove("H", "T");
    ASSERT_TRUE(store->close().isOk());
  }
  auto store = openDefault();
  EXPECT_EQ(store->consumerOffsets().get("G", "T", 0), 42);
  EXPECT_EQ(store->consumerOffsets().get("G", "T", 3), 7);
  EXPECT_EQ(store->consumerOffsets().get("G", "T", 1), std::nullopt);
  EXPECT_EQ(store->consumerOffsets().get("H", "T", 0), std::nullopt);
  EXPECT_EQ(store->consumerOffsets().snapshot().count("T@G"), 1u);
}

TEST_F(MessageStoreTest, DeleteTopicDropsItsQueuesAndOffsetsAndStaysDeletedAfterRestart) {
  const std::filesystem::path cq = std::filesystem::path(dir_.path()) / "consumequeue";
  {
    auto store = openDefault();
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(store->putMessage(makeMessage("Gone", i % 2, "g" + std::to_string(i))).isOk());
      ASSERT_TRUE(store->putMessage(makeMessage("Kept", i % 2, "k" + std::to_string(i))).isOk());
    }
    store->consumerOffsets().set("G", "Gone", 0, 3);
    store->consumerOffsets().set("G", "Kept", 0, 4);
    ASSERT_TRUE(std::filesystem::exists(cq / "Gone"));

    auto deleted = store->deleteTopic("Gone");
    ASSERT_TRUE(deleted.isOk()) << deleted.status().toString();
    EXPECT_EQ(*deleted, 2);
    EXPECT_FALSE(std::filesystem::exists(cq / "Gone"));
    EXPECT_EQ(store->maxOffset("Gone", 0), 0);
    EXPECT_TRUE(readQueue(*store, "Gone", 1).empty());
    EXPECT_EQ(store->consumerOffsets().get("G", "Gone", 0), std::nullopt);
    EXPECT_EQ(store->consumerOffsets().get("G", "Kept", 0), 4);
    EXPECT_EQ(readQueue(*store, "Kept", 0).size(), 5u);

    auto again = store->deleteTopic("Gone");
    ASSERT_TRUE(again.isOk());
    EXPECT_EQ(*again, 0);
    EXPECT_EQ(store->deleteTopic("bad topic!").status().code(), StatusCode::kInvalidArgument);

    // A message to the same name starts a new queue; its offsets continue after the deleted ones.
    auto put = store->putMessage(makeMessage("Gone", 0, "reborn"));
    ASSERT_TRUE(put.isOk());
    EXPECT_EQ(put->queue_offset, 5);
    auto reborn = readQueue(*store, "Gone", 0);
    ASSERT_EQ(reborn.size(), 1u);
    EXPECT_EQ(reborn[0].body(), "reborn");
    ASSERT_TRUE(store->close().isOk());
  }
  auto store = openDefault();
  auto q0 = readQueue(*store, "Gone", 0);
  ASSERT_EQ(q0.size(), 1u) << "the deleted messages must not be indexed again by recovery";
  EXPECT_EQ(q0[0].body(), "reborn");
  EXPECT_TRUE(readQueue(*store, "Gone", 1).empty());
  EXPECT_FALSE(std::filesystem::exists(cq / "Gone" / "1"));
  EXPECT_EQ(readQueue(*store, "Kept", 1).size(), 5u);
  EXPECT_EQ(store->consumerOffsets().get("G", "Gone", 0), std::nullopt);
  EXPECT_EQ(store->consumerOffsets().get("G", "Kept", 0), 4);
}

TEST_F(MessageStoreTest, CloseIsIdempotentAndRejectsPuts) {
  auto store = openDefault();
  ASSERT_TRUE(store->putMessage(makeMessage("T", 0, "x")).isOk());
  EXPECT_TRUE(store->close().isOk());
  EXPECT_TRUE(store->close().isOk());
  EXPECT_EQ(store->putMessage(makeMessage("T", 0, "y")).status().code(), StatusCode::kClosed);
  EXPECT_EQ(store->getMessages("T", 0, 0, 32, 1 << 20)->message_count, 1);  // reads keep working
}

TEST_F(MessageStoreTest, RetentionDeletesOldSegmentsAndQueuesFollow) {
  auto fs = std::make_shared<FaultInjectionFs>(clock_.fn());
  auto o = smallOptions("/store");
  o.fs = fs;
  o.clock = clock_.fn();
  o.commit_log_segment_size = 8192;
  auto store = open(o);
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(store->putMessage(makeMessage("R", i % 2, std::string(500, 'r'))).isOk());
    if (i == 29) clock_.advance(std::chrono::milliseconds(std::chrono::hours(48)).count());
  }
  const size_t segments = store->commitLogSegmentCount();
  ASSERT_GE(segments, 4u);
  EXPECT_EQ(*store->deleteExpiredFiles(), 0);  // nothing is 72 h old yet
  clock_.advance(std::chrono::milliseconds(std::chrono::hours(25)).count());
  auto deleted = store->deleteExpiredFiles();  // segments written before the 48 h jump are now 73 h old
  ASSERT_TRUE(deleted.isOk());
  EXPECT_GT(*deleted, 0);
  EXPECT_LT(static_cast<size_t>(*deleted), segments - 1);
  const int64_t log_min = store->commitLogMinOffset();
  EXPECT_GT(log_min, 0);
  for (int q = 0; q < 2; ++q) {
    const int64_t min = store->minOffset("R", q);
    EXPECT_GT(min, 0);
    auto small = store->getMessages("R", q, 0, 32, 1 << 20);
    EXPECT_EQ(small->status, GetMessageStatus::kOffsetTooSmall);
    EXPECT_EQ(small->next_begin_offset, min);
    auto msgs = readQueue(*store, "R", q);
    ASSERT_FALSE(msgs.empty());
    EXPECT_GE(msgs.front().commitLogOffset(), log_min);
    EXPECT_EQ(msgs.front().queueOffset(), min);
    EXPECT_EQ(msgs.back().queueOffset(), 29);
  }
  // Far in the future everything but the active segment goes.
  clock_.advance(std::chrono::milliseconds(std::chrono::hours(1000)).count());
  ASSERT_TRUE(store->deleteExpiredFiles().isOk());
  EXPECT_EQ(store->commitLogSegmentCount(), 1u);
  auto badly = store->getMessages("R", 0, 40, 32, 1 << 20);
  EXPECT_EQ(badly->status, GetMessageStatus::kOffsetOverflowBadly);
  EXPECT_EQ(badly->next_begin_offset, store->maxOffset("R", 0));  // min > 0: to the end
  auto put = store->putMessage(makeMessage("R", 0, "new"));
  EXPECT_EQ(put->queue_offset, 30);
}

TEST_F(MessageStoreTest, RetentionByDiskUsageDeletesOldestFirst) {
  auto fs = std::make_shared<FaultInjectionFs>(clock_.fn());
  auto o = smallOptions("/store");
  o.fs = fs;
  o.clock = clock_.fn();
  o.commit_log_segment_size = 8192;
  o.disk_max_used_ratio = 0.5;
  auto store = open(o);
  for (int i = 0; i < 60; ++i)
    ASSERT_TRUE(store->putMessage(makeMessage("D", 0, std::string(500, 'd'))).isOk());
  ASSERT_GE(store->commitLogSegmentCount(), 4u);
  // "Disk usage" = 0.2 per segment file: above 0.5 until only two remain.
  FaultInjectionFs* raw = fs.get();
  fs->setUsedRatio([raw] { return 0.2 * static_cast<double>(raw->list("/store/commitlog")->size()); });
  auto deleted = store->deleteExpiredFiles();
  ASSERT_TRUE(deleted.isOk());
  EXPECT_EQ(store->commitLogSegmentCount(), 2u);
  EXPECT_GT(store->minOffset("D", 0), 0);
}

}  // namespace
}  // namespace rocketrpc::store
