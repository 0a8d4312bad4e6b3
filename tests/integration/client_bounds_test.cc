// Client-side bounds against the broker under test (issue #11 item 1): the permits on asynchronous sends and
// requests in flight (ProducerOptions::max_async_in_flight / async_permit_wait).
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>

#include "rocketrpc/producer.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using testing::testNamesrv;
using testing::uniqueName;

class ClientBoundsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ROCKETRPC_REQUIRE_CLUSTER();
    topic_ = uniqueName("bounds");
  }
  std::unique_ptr<Producer> startProducer(size_t max_in_flight, std::chrono::milliseconds wait) {
    ProducerOptions o;
    o.namesrv_addr = testNamesrv();
    o.group = uniqueName("bounds_p");
    o.max_async_in_flight = max_in_flight;
    o.async_permit_wait = wait;
    auto p = std::make_unique<Producer>(o);
    p->start();
    p->send(Message(topic_, "create"));  // the topic exists, its route is cached
    return p;
  }
  std::string topic_;
};

// Outcomes are read on the callback thread and only their code crosses threads (libstdc++ counts exception_ptr
// references where ThreadSanitizer cannot see).

// Two requests nobody answers hold both permits: the third call fails at once with kOverLimit (async: through
// its callback; sync: thrown), and the shutdown ends the two held ones with kClosed.
TEST_F(ClientBoundsTest, RequestsOverMaxAsyncInFlightFailAtOnceWithOverLimit) {
  auto producer = startProducer(2, 0ms);
  std::promise<ErrorCode> held[2];
  for (auto& h : held) {
    producer->request(Message(topic_, "held"), [&h](Outcome<MessageExt> o) { h.set_value(o.errorCode()); }, 60s);
  }
  std::promise<ErrorCode> third;
  producer->request(Message(topic_, "third"), [&](Outcome<MessageExt> o) { third.set_value(o.errorCode()); }, 60s);
  auto f = third.get_future();
  ASSERT_EQ(f.wait_for(30s), std::future_status::ready) << "the call over the cap was not refused at once";
  EXPECT_EQ(f.get(), ErrorCode::kOverLimit);
  try {
    producer->request(Message(topic_, "sync"), 60s);
    FAIL() << "expected kOverLimit";
  } catch (const MQException& e) {
    EXPECT_EQ(e.code(), ErrorCode::kOverLimit);
    EXPECT_NE(std::string(e.what()).find("max_async_in_flight"), std::string::npos) << e.what();
  }
  std::promise<ErrorCode> send_refused;
  producer->send(Message(topic_, "async send"), [&](Outcome<SendResult> o) { send_refused.set_value(o.errorCode()); });
  auto sf = send_refused.get_future();
  ASSERT_EQ(sf.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(sf.get(), ErrorCode::kOverLimit);
  producer->shutdown();
  for (auto& h : held) {
    auto hf = h.get_future();
    ASSERT_EQ(hf.wait_for(30s), std::future_status::ready);
    EXPECT_EQ(hf.get(), ErrorCode::kClosed);
  }
}

// With async_permit_wait, the call over the cap waits for a permit: it gets one when a call completes.
TEST_F(ClientBoundsTest, CallOverTheCapWaitsForAPermitAndGetsOneWhenACallCompletes) {
  auto producer = startProducer(1, 60s);
  std::promise<void> first_done;
  producer->send(Message(topic_, "first"), [&](Outcome<SendResult>) { first_done.set_value(); });
  // Whether the first send is still in flight or not, the second gets a permit (at once or when it completes).
  std::promise<bool> second_ok;
  producer->send(Message(topic_, "second"), [&](Outcome<SendResult> o) { second_ok.set_value(o.ok()); });
  auto f = second_ok.get_future();
  ASSERT_EQ(f.wait_for(60s), std::future_status::ready);
  EXPECT_TRUE(f.get());
  EXPECT_EQ(first_done.get_future().wait_for(30s), std::future_status::ready);
}

}  // namespace
}  // namespace rocketrpc
