#include "common/executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <thread>
#include <vector>

#include "common/status.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;

TEST(ThreadPoolTest, RunsEveryPostedTaskBeforeShutdownReturns) {
  std::atomic<int> n{0};
  {
    ThreadPool pool("t", 3);
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(pool.post([&] { n++; }));
    pool.shutdown();
    EXPECT_EQ(n.load(), 1000);
    EXPECT_FALSE(pool.post([&] { n++; }));
    pool.shutdown();  // idempotent
  }
  EXPECT_EQ(n.load(), 1000);
}

TEST(ThreadPoolTest, ThrowingTaskDoesNotKillTheWorker) {
  ThreadPool pool("t", 1);
  pool.post([] { throw std::runtime_error("boom"); });
  std::promise<bool> ran;
  pool.post([&] { ran.set_value(pool.inPool()); });
  EXPECT_TRUE(ran.get_future().get());
  EXPECT_FALSE(pool.inPool());
}

// post() wakes a thread only when one is idle and not already woken: tasks posted in bursts, from several
// threads, while workers are busy or just woken, must all run without waiting for shutdown().
TEST(ThreadPoolTest, BurstsFromSeveralThreadsAllRunWithoutShutdown) {
  ThreadPool pool("t", 4);
  constexpr int kPosters = 4;
  constexpr int kTasks = 5000;
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  std::vector<std::thread> posters;
  for (int p = 0; p < kPosters; ++p) {
    posters.emplace_back([&] {
      for (int i = 0; i < kTasks; ++i) {
        pool.post([&] {
          std::lock_guard<std::mutex> lock(mu);
          if (++done == kPosters * kTasks) cv.notify_all();
        });
      }
    });
  }
  for (auto& t : posters) t.join();
  std::unique_lock<std::mutex> lock(mu);
  EXPECT_TRUE(cv.wait_for(lock, 30s, [&] { return done == kPosters * kTasks; })) << done;
}

TEST(ThreadPoolTest, TasksQueuedWhileEveryThreadIsBusyRunWhenOneFrees) {
  ThreadPool pool("t", 2);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> blocked{0};
  for (int i = 0; i < 2; ++i) {
    pool.post([&, released] {
      blocked++;
      released.wait();
    });
  }
  while (blocked.load() < 2) std::this_thread::yield();
  std::promise<void> ran;
  pool.post([&] { ran.set_value(); });  // no idle thread: nobody is woken for it
  release.set_value();
  EXPECT_EQ(ran.get_future().wait_for(30s), std::future_status::ready);
}

// Bug: shutdown() called from one of the pool's own tasks detached that thread, and the pool could then be
// freed while the thread was still in its task, after which it locked the freed pool's mutex. Now the thread
// is left to the destructor, which joins it: when the destructor returns, the thread has left the pool.
TEST(ThreadPoolTest, ShutdownFromOwnTaskLeavesThatThreadToTheDestructor) {
  struct ExitFlag {
    std::atomic<bool>* exited = nullptr;
    ~ExitFlag() {
      if (exited) exited->store(true);
    }
  };
  static std::atomic<bool> exited{false};
  static std::atomic<bool> destroyed{false};
  exited = false;
  destroyed = false;
  auto pool = std::make_unique<ThreadPool>("t", 2);
  std::promise<void> shut;
  ASSERT_TRUE(pool->post([&pool, &shut] {
    thread_local ExitFlag flag;  // destroyed when this pool thread exits
    flag.exited = &exited;
    pool->shutdown();            // returns with this thread still running
    shut.set_value();
    // Stay in the task for a while unless the pool is gone (the old, detaching shutdown let it go at once).
    for (int i = 0; i < 200 && !destroyed.load(); ++i) std::this_thread::sleep_for(1ms);
  }));
  shut.get_future().wait();
  pool.reset();  // must wait for the task's thread to leave the pool
  destroyed = true;
  EXPECT_TRUE(exited.load()) << "the pool was destroyed while one of its threads still ran";
}

// The last owner of a pool dropped inside one of its tasks: the destructor runs on a pool thread, which cannot
// join itself; the thread then finishes its task and exits without touching the freed pool (ASan/TSan check).
TEST(ThreadPoolTest, DestroyedFromItsOwnTaskFinishesCleanly) {
  auto pool = std::make_shared<ThreadPool>("t", 2);
  std::promise<void> gone;
  std::atomic<int> ran{0};
  for (int i = 0; i < 10; ++i) pool->post([&ran] { ran++; });
  auto* raw = pool.get();
  std::promise<void> posted;  // the task drops the pool only once post() has returned (no call is inside it)
  std::shared_future<void> posted_f = posted.get_future().share();
  raw->post([pool = std::move(pool), &gone, posted_f]() mutable {
    posted_f.wait();
    pool.reset();  // ~ThreadPool on its own thread
    gone.set_value();
  });
  posted.set_value();
  EXPECT_EQ(gone.get_future().wait_for(30s), std::future_status::ready);
  EXPECT_EQ(ran.load(), 10);
}

TEST(SchedulerTest, DestroyedFromItsOwnTaskFinishesCleanly) {
  auto s = std::make_shared<Scheduler>("s");
  std::promise<void> gone;
  auto* raw = s.get();
  std::promise<void> scheduled;  // the task drops the scheduler only once schedule() has returned
  std::shared_future<void> scheduled_f = scheduled.get_future().share();
  raw->schedule(0ms, [s = std::move(s), &gone, scheduled_f]() mutable {
    scheduled_f.wait();
    s.reset();
    gone.set_value();
  });
  scheduled.set_value();
  EXPECT_EQ(gone.get_future().wait_for(30s), std::future_status::ready);
}

TEST(SchedulerTest, ScheduleAfterShutdownReturnsZero) {
  Scheduler s("s");
  s.shutdown();
  EXPECT_EQ(s.schedule(1ms, [] {}), 0u);
}

TEST(SchedulerTest, LaterTimerDueEarlierWakesTheThread) {
  Scheduler s("s");
  s.schedule(std::chrono::hours(1), [] {});
  std::promise<void> fired;
  s.schedule(5ms, [&] { fired.set_value(); });  // the thread sleeps towards the 1 h timer: must be woken
  EXPECT_EQ(fired.get_future().wait_for(30s), std::future_status::ready);
}

TEST(SchedulerTest, RunsTasksInDeadlineOrder) {
  Scheduler s("s");
  std::mutex mu;
  std::vector<int> order;
  std::promise<void> done;
  s.schedule(60ms, [&] {
    std::lock_guard<std::mutex> lock(mu);
    order.push_back(3);
    done.set_value();
  });
  s.schedule(0ms, [&] {
    std::lock_guard<std::mutex> lock(mu);
    order.push_back(1);
  });
  s.schedule(30ms, [&] {
    std::lock_guard<std::mutex> lock(mu);
    order.push_back(2);
  });
  done.get_future().wait();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(SchedulerTest, CancelledTaskNeverRuns) {
  Scheduler s("s");
  std::atomic<bool> cancelled_ran{false};
  auto id = s.schedule(20ms, [&] { cancelled_ran = true; });
  s.cancel(id);
  std::promise<void> later;
  s.schedule(60ms, [&] { later.set_value(); });
  later.get_future().wait();
  EXPECT_FALSE(cancelled_ran.load());
}

TEST(SchedulerTest, RepeatingTaskRepeatsUntilCancelled) {
  Scheduler s("s");
  std::atomic<int> runs{0};
  std::promise<void> three;
  Scheduler::TaskId id = 0;
  id = s.scheduleRepeating(0ms, 1ms, [&] {
    if (++runs == 3) three.set_value();
  });
  three.get_future().wait();
  s.cancel(id);
  int after = runs.load();
  std::promise<void> fence;
  s.schedule(20ms, [&] { fence.set_value(); });
  fence.get_future().wait();
  EXPECT_LE(runs.load(), after + 1);  // at most the run in progress when cancelled
}

TEST(StatusTest, CarriesCodeMessageAndContext) {
  Status ok;
  EXPECT_TRUE(ok.isOk());
  Status r = Status::remote(17, "topic missing").withContext("send");
  EXPECT_EQ(r.code(), StatusCode::kRemoteError);
  EXPECT_EQ(r.remoteCode(), 17);
  EXPECT_EQ(r.message(), "send: topic missing");
  EXPECT_EQ(r.toString(), "RemoteError(17): send: topic missing");
  Result<int> v = 5;
  EXPECT_TRUE(v.isOk());
  EXPECT_EQ(*v, 5);
  Result<int> e = Status::timeout("late");
  EXPECT_FALSE(e.isOk());
  EXPECT_EQ(e.status().code(), StatusCode::kTimeout);
}

}  // namespace
}  // namespace rocketrpc
