#include "client/request_future_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "support/test_support.h"

namespace rocketrpc::client {
namespace {

using namespace std::chrono_literals;

class RequestFutureTableTest : public ::testing::Test {
 protected:
  ThreadPool pool_{"cb", 2};
  Scheduler scheduler_{"sched"};
  RequestFutureTable table_{&pool_, &scheduler_};
};

TEST_F(RequestFutureTableTest, ReplyCompletesOnceAndLaterEventsAreIgnored) {
  std::atomic<int> calls{0};
  std::promise<std::string> body;
  ASSERT_TRUE(table_.add("c1", 60s, "T", 10, [&](Result<MessageExt> r) {
    calls++;
    body.set_value(r.isOk() ? r->body() : r.status().toString());
  }).isOk());
  EXPECT_TRUE(table_.markSent("c1"));
  MessageExt reply;
  reply.setBody("pong");
  EXPECT_TRUE(table_.completeWithReply("c1", reply));
  EXPECT_EQ(body.get_future().get(), "pong");
  EXPECT_FALSE(table_.completeWithReply("c1", reply));
  EXPECT_FALSE(table_.fail("c1", Status::network("x")));
  pool_.shutdown();
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(table_.size(), 0u);
  EXPECT_EQ(table_.unmatchedReplies(), 1u);
}

TEST_F(RequestFutureTableTest, TimeoutAfterSendSaysSentButNoReply) {
  std::promise<Status> st;
  ASSERT_TRUE(table_.add("c2", 10ms, "Topic", 10, [&](Result<MessageExt> r) { st.set_value(r.status()); }).isOk());
  table_.markSent("c2");
  Status s = st.get_future().get();
  EXPECT_EQ(s.code(), StatusCode::kTimeout);
  EXPECT_NE(s.message().find("send request message to Topic OK, but wait reply message timeout"), std::string::npos)
      << s.message();
}

TEST_F(RequestFutureTableTest, SendFailureIsNotATimeout) {
  std::promise<Status> st;
  ASSERT_TRUE(table_.add("c3", 60s, "T", 10, [&](Result<MessageExt> r) { st.set_value(r.status()); }).isOk());
  EXPECT_TRUE(table_.fail("c3", Status::network("connect refused")));
  EXPECT_EQ(st.get_future().get().code(), StatusCode::kNetwork);
}

TEST_F(RequestFutureTableTest, LimitRejectsAtOnceAndFailAllClosesEverything) {
  std::atomic<int> closed{0};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(table_.add("k" + std::to_string(i), 60s, "T", 3, [&](Result<MessageExt> r) {
      if (r.status().code() == StatusCode::kClosed) closed++;
    }).isOk());
  }
  Status over = table_.add("k3", 60s, "T", 3, [](Result<MessageExt>) { FAIL() << "must not be called"; });
  EXPECT_EQ(over.code(), StatusCode::kOverLimit);
  EXPECT_EQ(table_.add("k0", 60s, "T", 10, [](Result<MessageExt>) {}).code(), StatusCode::kInvalidArgument);
  table_.failAll(Status::closed("bye"));
  pool_.shutdown();
  EXPECT_EQ(closed.load(), 3);
  EXPECT_EQ(table_.size(), 0u);
}

TEST_F(RequestFutureTableTest, InlineCompletionRunsOnTheCompletingThread) {
  std::thread::id where;
  ASSERT_TRUE(table_.add("i1", 60s, "T", 10, [&](Result<MessageExt>) { where = std::this_thread::get_id(); }, true)
                  .isOk());
  table_.completeWithReply("i1", MessageExt());
  EXPECT_EQ(where, std::this_thread::get_id());
}

// Bug: an entry added once the scheduler had stopped (instance shutting down) got no deadline timer and never
// timed out: a synchronous request() waiting on it blocked for ever. Now add() refuses it with Closed.
TEST_F(RequestFutureTableTest, AddAfterTheSchedulerStoppedIsRefusedNotLeftWithoutDeadline) {
  scheduler_.shutdown();
  Status s = table_.add("late", 1ms, "T", 10, [](Result<MessageExt>) { FAIL() << "must not be called"; });
  EXPECT_EQ(s.code(), StatusCode::kClosed) << s.toString();
  EXPECT_EQ(table_.size(), 0u);
}

TEST_F(RequestFutureTableTest, AddAfterFailAllIsRefusedWithItsStatus) {
  table_.failAll(Status::closed("instance gone"));
  Status s = table_.add("late", 60s, "T", 10, [](Result<MessageExt>) { FAIL() << "must not be called"; });
  EXPECT_EQ(s.code(), StatusCode::kClosed);
  EXPECT_NE(s.message().find("instance gone"), std::string::npos) << s.toString();
  EXPECT_EQ(table_.size(), 0u);
}

TEST_F(RequestFutureTableTest, FailOwnedFailsOnlyThatOwnersEntries) {
  int a = 0;
  int b = 0;
  std::atomic<int> failed_a{0};
  std::atomic<int> failed_b{0};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(table_.add("a" + std::to_string(i), 60s, "T", 10, [&](Result<MessageExt>) { failed_a++; }, true, &a)
                    .isOk());
  }
  ASSERT_TRUE(table_.add("b0", 60s, "T", 10, [&](Result<MessageExt>) { failed_b++; }, true, &b).isOk());
  table_.failOwned(&a, Status::closed("producer a shut down"));
  EXPECT_EQ(failed_a.load(), 3);
  EXPECT_EQ(failed_b.load(), 0);
  EXPECT_EQ(table_.size(), 1u);
}

// One deadline task per table: an entry due before the one armed re-arms it; the later entry stays pending.
TEST_F(RequestFutureTableTest, EarlierDeadlineAddedLaterTimesOutFirst) {
  std::promise<Status> early;
  std::atomic<int> late_calls{0};
  ASSERT_TRUE(table_.add("late", 600s, "T", 10, [&](Result<MessageExt>) { late_calls++; }).isOk());
  ASSERT_TRUE(table_.add("early", 10ms, "T", 10, [&](Result<MessageExt> r) { early.set_value(r.status()); }).isOk());
  auto f = early.get_future();
  ASSERT_EQ(f.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(f.get().code(), StatusCode::kTimeout);
  EXPECT_EQ(table_.size(), 1u);
  EXPECT_EQ(late_calls.load(), 0);
  ASSERT_TRUE(table_.add("again", 10ms, "T", 10, [](Result<MessageExt>) {}).isOk());
  EXPECT_TRUE(testing::waitUntil([&] { return table_.size() == 1u; }, 30s));
}

}  // namespace
}  // namespace rocketrpc::client
