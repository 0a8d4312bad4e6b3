// Lifecycle races of the client (issue #11 item 2): Producer::shutdown and RpcClient::close racing sends and
// requests from 8 threads, 1,000 rounds in all, against the broker under test. Every call must end exactly once
// (each callback counted, a second one is an error), no call may hang, nothing may crash. Meant for the tsan
// preset too (label "fault"); rounds stay cheap because calls made after the close fail at once.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "rocketrpc/producer.h"
#include "rocketrpc/rpc_client.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using testing::testNamesrv;
using testing::uniqueName;
using testing::waitUntil;

constexpr int kCallers = 8;
constexpr int kCallsPerCaller = 4;
// Calls that never block the caller: the closer waits for a random number of them, so it never waits for a
// synchronous request that only the close can end.
constexpr int kNonBlockingCalls = 4 * kCallsPerCaller;
constexpr auto kCallTimeout = 20s;  // longer than any round: pending calls end by the close, not by timing out

/// Counts call starts and ends; a call ending twice is recorded (and fails the test).
struct Tally {
  std::atomic<int64_t> started{0};
  std::atomic<int64_t> ended{0};
  std::atomic<int64_t> twice{0};
  std::atomic<int64_t> non_blocking_started{0};

  /// One token per call: end() on it the first time counts the end; later calls count `twice`.
  std::shared_ptr<std::atomic<bool>> start(bool non_blocking) {
    started++;
    if (non_blocking) non_blocking_started++;
    return std::make_shared<std::atomic<bool>>(false);
  }
  void end(const std::shared_ptr<std::atomic<bool>>& token) {
    if (token->exchange(true)) {
      twice++;
    } else {
      ended++;
    }
  }
};

/// Runs 8 callers (`call(thread, index)`) and one closer (`close()`) that fires after a random number of
/// non-blocking calls started; returns when the callers are done.
void runRound(std::mt19937& rng, Tally& tally, const std::function<void(int, int)>& call,
              const std::function<void()>& close) {
  const int64_t base_started = tally.non_blocking_started.load();
  const int target = std::uniform_int_distribution<int>(0, kNonBlockingCalls)(rng);
  std::vector<std::thread> callers;
  callers.reserve(kCallers);
  for (int t = 0; t < kCallers; ++t) {
    callers.emplace_back([t, &call] {
      for (int i = 0; i < kCallsPerCaller; ++i) call(t, i);
    });
  }
  while (tally.non_blocking_started.load() - base_started < target) std::this_thread::yield();
  close();
  for (auto& c : callers) c.join();
}

/// After a round (futures read): every call ended, none twice.
void checkEnded(const Tally& tally) {
  ASSERT_TRUE(waitUntil([&] { return tally.ended.load() == tally.started.load(); }, 60s))
      << tally.started.load() - tally.ended.load() << " calls never ended";
  ASSERT_EQ(tally.twice.load(), 0) << "a call ended twice";
}

class ClientLifecycleFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ROCKETRPC_REQUIRE_CLUSTER();
    topic_ = uniqueName("lifecycle");
    shared_instance_ = uniqueName("lifecycle_inst");
    // Keeps the shared client instance alive between rounds (most rounds use it; every tenth has its own, so
    // that the instance's own shutdown races the calls too), and creates the topic.
    keeper_ = std::make_unique<Producer>(producerOptions(shared_instance_));
    keeper_->start();
    keeper_->send(Message(topic_, "create"));
  }
  void TearDown() override {
    if (keeper_) keeper_->shutdown();
  }

  ProducerOptions producerOptions(const std::string& instance) {
    ProducerOptions o;
    o.namesrv_addr = testNamesrv();
    o.group = uniqueName("lifecycle_p");
    o.instance_name = instance;
    o.retry_times = 0;
    o.retry_times_async = 0;
    return o;
  }

  std::string instanceFor(int round) { return round % 10 == 0 ? uniqueName("lifecycle_own") : shared_instance_; }

  std::string topic_;
  std::string shared_instance_;
  std::unique_ptr<Producer> keeper_;
};

TEST_F(ClientLifecycleFaultTest, ProducerShutdownRacingSendsAndRequestsEndsEveryCallOnce) {
  std::mt19937 rng(20261207);
  Tally tally;
  for (int round = 0; round < 500; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    auto producer = std::make_shared<Producer>(producerOptions(instanceFor(round)));
    producer->start();
    std::mutex futures_mu;
    std::vector<std::pair<std::shared_ptr<std::atomic<bool>>, std::future<MessageExt>>> futures;
    const Message msg(topic_, "x");
    auto call = [&](int thread, int) {
      switch (thread) {
        case 0: {  // synchronous send: ends on return
          auto token = tally.start(false);
          try {
            producer->send(msg);
          } catch (const MQException&) {
          }
          tally.end(token);
          break;
        }
        case 1: {  // synchronous request: no responder, so only the shutdown ends it
          auto token = tally.start(false);
          try {
            producer->request(msg, kCallTimeout);
          } catch (const MQException&) {
          }
          tally.end(token);
          break;
        }
        case 2:
        case 3: {
          auto token = tally.start(true);
          producer->send(msg, [&tally, token](Outcome<SendResult>) { tally.end(token); });
          break;
        }
        case 4:
        case 5: {
          auto token = tally.start(true);
          producer->request(msg, [&tally, token](Outcome<MessageExt>) { tally.end(token); }, kCallTimeout);
          break;
        }
        case 6: {
          auto token = tally.start(true);
          auto f = producer->requestAsync(msg, kCallTimeout);
          std::lock_guard<std::mutex> lock(futures_mu);
          futures.emplace_back(token, std::move(f));
          break;
        }
        default: {
          auto token = tally.start(true);
          try {
            producer->sendOneway(msg);
          } catch (const MQException&) {
          }
          tally.end(token);
          break;
        }
      }
    };
    runRound(rng, tally, call, [&] { producer->shutdown(); });
    for (auto& [token, f] : futures) {
      ASSERT_EQ(f.wait_for(60s), std::future_status::ready) << "a requestAsync future never became ready";
      tally.end(token);
    }
    checkEnded(tally);
    if (HasFatalFailure()) return;
  }
}

TEST_F(ClientLifecycleFaultTest, RpcClientCloseRacingCallsEndsEveryCallOnce) {
  std::mt19937 rng(7);
  Tally tally;
  for (int round = 0; round < 500; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    RpcClientOptions o;
    o.broker_url = testNamesrv();
    o.request_topic = topic_;
    o.fail_fast = false;  // no responder: the requests wait until the close ends them
    o.instance_name = instanceFor(round);
    o.max_concurrent_requests = 1000;
    auto client = std::make_shared<RpcClient>(o);
    client->start();
    std::mutex futures_mu;
    std::vector<std::pair<std::shared_ptr<std::atomic<bool>>, std::future<RpcResponse>>> futures;
    auto call = [&](int thread, int) {
      if (thread < 2) {  // synchronous call: ends on return or throw
        auto token = tally.start(false);
        try {
          client->sendSync("x", kCallTimeout);
        } catch (const RpcException&) {
        }
        tally.end(token);
        return;
      }
      auto token = tally.start(true);
      try {
        if (thread < 6) {
          client->sendAsync("x", kCallTimeout, [&tally, token](RpcResult) { tally.end(token); });
        } else {
          auto f = client->sendAsync("x", kCallTimeout);
          std::lock_guard<std::mutex> lock(futures_mu);
          futures.emplace_back(token, std::move(f));
        }
      } catch (const RpcException&) {
        // Refused at once (closed, over the limit): the continuation is never called, the call ended here.
        tally.end(token);
      }
    };
    runRound(rng, tally, call, [&] { client->close(); });
    for (auto& [token, f] : futures) {
      ASSERT_EQ(f.wait_for(60s), std::future_status::ready) << "a sendAsync future never became ready";
      tally.end(token);
    }
    checkEnded(tally);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace rocketrpc
