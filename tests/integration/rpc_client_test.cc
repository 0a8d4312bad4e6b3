// RpcClient + RpcServer against a real name server and broker (ROCKETRPC_TEST_NAMESRV): the seed's
// preconditions and postconditions, the failure taxonomy, the in-flight bound, close(), fail-fast, deadlines,
// dedup and stats.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "rocketrpc/producer.h"
#include "rocketrpc/push_consumer.h"
#include "rocketrpc/rpc.h"
#include "support/admin.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using testing::testNamesrv;
using testing::uniqueName;
using testing::waitUntil;
using Clock = std::chrono::steady_clock;

/// Echo, with switches: "throw:<text>" throws, "sleep:<ms>" sleeps, "budget" answers the remaining budget;
/// a closed gate blocks every call until opened. Streams are joined with spaces. Thread-safe.
class TestReceiver : public RpcReceiver {
 public:
  std::string processRequest(std::string_view request) override {
    calls++;
    {
      std::unique_lock<std::mutex> lock(mu_);
      gate_cv_.wait(lock, [&] { return gate_open_; });
    }
    std::string r(request);
    if (r.rfind("throw:", 0) == 0) throw std::runtime_error(r.substr(6));
    if (r.rfind("sleep:", 0) == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(r.substr(6))));
    if (r == "budget") {
      const RpcContext* ctx = RpcContext::current();
      return ctx ? std::to_string(ctx->remaining().count()) : "none";
    }
    return r;
  }
  std::string processStreamingRequest(const std::string& session_id,
                                      const std::vector<std::string>& messages) override {
    stream_calls++;
    if (!messages.empty() && messages[0].rfind("sleep:", 0) == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(messages[0].substr(6))));
    }
    std::string out;
    for (const auto& m : messages) out += (out.empty() ? "" : " ") + m;
    return out;
  }
  void closeGate() {
    std::lock_guard<std::mutex> lock(mu_);
    gate_open_ = false;
  }
  void openGate() {
    std::lock_guard<std::mutex> lock(mu_);
    gate_open_ = true;
    gate_cv_.notify_all();
  }
  std::atomic<int> calls{0};
  std::atomic<int> stream_calls{0};

 private:
  std::mutex mu_;
  std::condition_variable gate_cv_;
  bool gate_open_ = true;
};

class RpcClientIT : public ::testing::Test {
 protected:
  void SetUp() override {
    ROCKETRPC_REQUIRE_CLUSTER();
    topic_ = uniqueName("rpc_it");
    group_ = uniqueName("rpc_it_srv");
    auto created = testing::createTopicOnAllBrokers(testNamesrv(), topic_, 4);
    ASSERT_TRUE(created.isOk()) << created.status().toString();
    receiver_ = std::make_shared<TestReceiver>();
  }
  void TearDown() override {
    if (receiver_) receiver_->openGate();
    if (client_) client_->close();
    if (server_) server_->close();
  }

  RpcServerOptions serverOptions() {
    RpcServerOptions o;
    o.broker_url = testNamesrv();
    o.request_topic = topic_;
    o.consumer_group = group_;
    return o;
  }
  RpcClientOptions clientOptions() {
    RpcClientOptions o;
    o.broker_url = testNamesrv();
    o.request_topic = topic_;
    o.default_timeout = 10000ms;
    return o;
  }
  void startServer(RpcServerOptions o) {
    server_ = std::make_unique<RpcServer>(o, receiver_);
    server_->start();
    ASSERT_TRUE(waitUntil([&] { return !server_->assignedQueues().empty(); }, 30s))
        << "server never rebalanced";
  }
  void startServer() { startServer(serverOptions()); }
  void startClient(RpcClientOptions o) {
    client_ = std::make_unique<RpcClient>(o);
    client_->start();
  }
  void startClient() { startClient(clientOptions()); }

  std::string topic_, group_;
  std::shared_ptr<TestReceiver> receiver_;
  std::unique_ptr<RpcServer> server_;
  std::unique_ptr<RpcClient> client_;
};

template <typename F>
RpcErrorCode codeOf(F&& f) {
  try {
    f();
  } catch (const RpcException& e) {
    return e.code();
  }
  return RpcErrorCode::kInternal;
}

// --- sendSync ---

// A requester that sees the server online (the fail-fast probe passes once the server's heartbeat is in) may
// send before the server's first rebalance has positioned its queues. A new group must still serve that
// request: it starts at requests stored since just before start(), not at the queue's end as of the rebalance.
TEST_F(RpcClientIT, RequestSentTheMomentANewServerStartsIsServed) {
  for (int i = 0; i < 12; ++i) {
    SCOPED_TRACE("round " + std::to_string(i));
    topic_ = uniqueName("rpc_it_early");
    auto created = testing::createTopicOnAllBrokers(testNamesrv(), topic_, 8);
    ASSERT_TRUE(created.isOk()) << created.status().toString();
    RpcServerOptions so = serverOptions();
    so.consumer_group = uniqueName("rpc_it_early_srv");
    server_ = std::make_unique<RpcServer>(so, receiver_);
    server_->start();  // no wait for the rebalance, as `rocketrpc serve` prints READY right after start()
    startClient();
    EXPECT_EQ(client_->sendSync("early " + std::to_string(i), 10000ms).payload(), "early " + std::to_string(i));
    client_->close();
    server_->close();
  }
}

TEST_F(RpcClientIT, SendSyncReturnsTheReceiverReply) {
  startServer();
  startClient();
  EXPECT_TRUE(client_->isStarted());
  RpcResponse r = client_->sendSync("Hello", 5000ms);
  EXPECT_TRUE(r.success());
  EXPECT_EQ(r.payload(), "Hello");
  EXPECT_EQ(r.correlationId().size(), 36u);  // unique correlation id (UUID)
  EXPECT_GT(r.latency().count(), 0);
  // Any bytes, NUL included, and the empty payload.
  std::string binary("a\0b\xff", 4);
  EXPECT_EQ(client_->sendSync(binary, 5000ms).payload(), binary);
  RpcResponse empty = client_->sendSync("", 5000ms);
  EXPECT_TRUE(empty.success());
  EXPECT_EQ(empty.payload(), "");
  // Default timeout overload.
  EXPECT_EQ(client_->sendSync("default").payload(), "default");
  // Distinct correlation ids.
  EXPECT_NE(client_->sendSync("a", 5000ms).correlationId(), client_->sendSync("a", 5000ms).correlationId());
}

TEST_F(RpcClientIT, ReceiverExceptionIsAnErrorResponseNotATimeout) {
  startServer();
  startClient();
  auto t0 = Clock::now();
  RpcResponse r = client_->sendSync("throw:division by zero", 10000ms);
  EXPECT_LT(Clock::now() - t0, 5s);
  EXPECT_FALSE(r.success());
  EXPECT_EQ(r.errorMessage(), "division by zero");
  EXPECT_EQ(r.errorCode(), RpcErrorCode::kRemoteError);
  EXPECT_TRUE(r.payload().empty());
  EXPECT_EQ(client_->stats().remote_errors, 1u);
  EXPECT_EQ(server_->stats().handler_errors, 1u);
}

TEST_F(RpcClientIT, NoReplyInTimeRaisesRpcTimeoutException) {
  startServer();
  startClient();
  auto t0 = Clock::now();
  try {
    client_->sendSync("sleep:3000", 1000ms);
    FAIL() << "no timeout";
  } catch (const RpcTimeoutException& e) {
    EXPECT_EQ(e.code(), RpcErrorCode::kTimeout);
    EXPECT_TRUE(e.retriable());
  }
  auto took = Clock::now() - t0;
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 2500ms);
  EXPECT_EQ(client_->stats().timeouts, 1u);
  // The handler finished past the deadline: its reply is not sent.
  EXPECT_TRUE(waitUntil([&] { return server_->stats().late_replies_dropped == 1; }, 10s));
}

TEST_F(RpcClientIT, HandlerGetsTheRemainingBudget) {
  startServer();
  startClient();
  RpcResponse r = client_->sendSync("budget", 4000ms);
  ASSERT_TRUE(r.success());
  int64_t budget = std::stoll(std::string(r.payload()));
  EXPECT_GT(budget, 1000);
  EXPECT_LE(budget, 4000);
}

// --- sendAsync ---

TEST_F(RpcClientIT, SendAsyncReturnsAtOnceAndCompletesLater) {
  startServer();
  startClient();
  receiver_->closeGate();
  auto t0 = Clock::now();
  std::future<RpcResponse> f = client_->sendAsync("async", 10000ms);
  EXPECT_LT(Clock::now() - t0, 500ms);  // the caller is not blocked while the receiver is
  EXPECT_EQ(f.wait_for(200ms), std::future_status::timeout);
  receiver_->openGate();
  EXPECT_EQ(f.get().payload(), "async");

  std::promise<RpcResult> p;
  client_->sendAsync("cont", 10000ms, [&p](RpcResult r) { p.set_value(std::move(r)); });
  RpcResult r = p.get_future().get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().payload(), "cont");

  // Timeout through the future.
  auto late = client_->sendAsync("sleep:2000", 500ms);
  EXPECT_THROW(late.get(), RpcTimeoutException);
}

TEST_F(RpcClientIT, TenThousandInFlightCompleteExactlyOnceAndTheNextIsRejected) {
  constexpr int kN = 10000;
  RpcServerOptions so = serverOptions();
  so.consume_threads = 16;
  startServer(so);
  RpcClientOptions co = clientOptions();
  co.max_concurrent_requests = kN;
  startClient(co);
  ASSERT_EQ(client_->sendSync("warm", 10000ms).payload(), "warm");
  receiver_->closeGate();  // nothing is answered until all are in flight

  std::vector<std::atomic<int>> calls(kN);
  std::atomic<int> ok{0}, done{0};
  std::mutex error_mu;
  std::map<std::string, int> errors;  // by kind, to tell what went wrong
  for (int i = 0; i < kN; ++i) {
    std::string body = "r" + std::to_string(i);
    client_->sendAsync(body, 290000ms, [&, i, body](RpcResult r) {
      calls[i].fetch_add(1);
      if (r.ok() && r.value().success() && r.value().payload() == body) {
        ok.fetch_add(1);
      } else {
        std::lock_guard<std::mutex> lock(error_mu);
        errors[r.ok() ? "reply " + std::string(r.value().errorMessage())
                      : std::string(rpcErrorCodeName(r.errorCode()))]++;
      }
      done.fetch_add(1);
    });
  }
  EXPECT_EQ(client_->stats().in_flight, static_cast<uint64_t>(kN));
  auto t0 = Clock::now();
  try {
    client_->sendAsync("one too many", 10000ms,
                       [](RpcResult) { ADD_FAILURE() << "rejected call completed"; });
    FAIL() << "request 10001 accepted";
  } catch (const RpcException& e) {
    EXPECT_EQ(e.code(), RpcErrorCode::kOverLimit);
    EXPECT_NE(std::string(e.what()).find("max-concurrent-requests (10000)"), std::string::npos) << e.what();
  }
  EXPECT_THROW(client_->sendSync("sync too", 1000ms), RpcException);
  EXPECT_LT(Clock::now() - t0, 100ms);  // rejected at once
  EXPECT_EQ(client_->stats().rejected_over_limit, 2u);

  receiver_->openGate();
  ASSERT_TRUE(waitUntil([&] { return done.load() == kN; }, 400s)) << "done=" << done.load();
  std::this_thread::sleep_for(500ms);  // a second completion would land here
  for (int i = 0; i < kN; ++i) ASSERT_EQ(calls[i].load(), 1) << i;
  EXPECT_EQ(ok.load(), kN) << [&] {
    std::lock_guard<std::mutex> lock(error_mu);
    std::string all;
    for (const auto& [kind, n] : errors) all += kind + ": " + std::to_string(n) + "; ";
    return all;
  }();
  RpcClientStats s = client_->stats();
  EXPECT_EQ(s.in_flight, 0u);
  EXPECT_EQ(s.succeeded, static_cast<uint64_t>(kN) + 1);
  EXPECT_EQ(s.latency.count, static_cast<uint64_t>(kN) + 1);
  EXPECT_GT(s.latency.p99.count(), 0);
  // The bound is free again.
  EXPECT_EQ(client_->sendSync("after", 10000ms).payload(), "after");
}

// --- close ---

TEST_F(RpcClientIT, CloseCompletesThousandPendingRequestsPromptlyAndIsIdempotent) {
  constexpr int kN = 1000;
  startServer();
  RpcClientOptions co = clientOptions();
  co.max_concurrent_requests = kN;
  startClient(co);
  receiver_->closeGate();
  std::vector<std::atomic<int>> calls(kN);
  std::atomic<int> closed{0}, done{0};
  std::vector<std::future<RpcResponse>> futures;
  for (int i = 0; i < kN / 2; ++i) {
    client_->sendAsync("c", 60000ms, [&, i](RpcResult r) {
      calls[i].fetch_add(1);
      if (!r.ok() && r.errorCode() == RpcErrorCode::kClosed) closed.fetch_add(1);
      done.fetch_add(1);
    });
  }
  for (int i = kN / 2; i < kN; ++i) futures.push_back(client_->sendAsync("f", 60000ms));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(client_->stats().in_flight, static_cast<uint64_t>(kN));
  std::string session = client_->sendStreamingStart();  // plain sends: the closed gate does not hold them
  client_->sendStreamingMessage(session, "open");
  EXPECT_EQ(client_->stats().sessions_open, 1u);

  auto t0 = Clock::now();
  client_->close();
  auto took = Clock::now() - t0;
  EXPECT_LT(took, 5s);
  EXPECT_EQ(done.load(), kN / 2);  // every continuation ran before close() returned
  EXPECT_EQ(closed.load(), kN / 2);
  for (auto& f : futures) {
    ASSERT_EQ(f.wait_for(0ms), std::future_status::ready);
    try {
      f.get();
      ADD_FAILURE() << "completed without error";
    } catch (const RpcException& e) {
      EXPECT_EQ(e.code(), RpcErrorCode::kClosed);
    }
  }
  EXPECT_FALSE(client_->isStarted());
  EXPECT_EQ(client_->stats().sessions_open, 0u);  // sessions terminated
  EXPECT_EQ(codeOf([&] { client_->sendStreamingMessage(session, "late"); }), RpcErrorCode::kClosed);
  client_->close();  // idempotent
  EXPECT_EQ(codeOf([&] { client_->sendSync("x", 1000ms); }), RpcErrorCode::kClosed);
  EXPECT_EQ(codeOf([&] { client_->sendAsync("x", 1000ms); }), RpcErrorCode::kClosed);
  EXPECT_EQ(codeOf([&] { client_->sendStreamingStart(); }), RpcErrorCode::kClosed);
  receiver_->openGate();
  std::this_thread::sleep_for(500ms);  // replies arriving now must not complete anything twice
  for (int i = 0; i < kN / 2; ++i) ASSERT_EQ(calls[i].load(), 1) << i;
  EXPECT_EQ(client_->stats().closed, static_cast<uint64_t>(kN));
  client_.reset();  // destructor after close: nothing left to do
}

TEST_F(RpcClientIT, CloseFromAContinuationDoesNotDeadlock) {
  startServer();
  startClient();
  std::promise<void> closed;
  client_->sendAsync("x", 10000ms, [&](RpcResult) {
    client_->close();
    closed.set_value();
  });
  ASSERT_EQ(closed.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_FALSE(client_->isStarted());
}

// --- fail fast ---

TEST_F(RpcClientIT, NoResponderFailsFastWellBeforeTheTimeout) {
  startClient();  // no server at all
  auto t0 = Clock::now();
  try {
    client_->sendSync("anyone?", 10000ms);
    FAIL() << "sent without a responder";
  } catch (const RpcException& e) {
    EXPECT_EQ(e.code(), RpcErrorCode::kNoResponder) << e.what();
    EXPECT_NE(std::string(e.what()).find("no responder"), std::string::npos);
    EXPECT_TRUE(e.retriable());
  }
  EXPECT_LT(Clock::now() - t0, 2s);
  auto f = client_->sendAsync("anyone?", 10000ms);
  ASSERT_EQ(f.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(codeOf([&] { f.get(); }), RpcErrorCode::kNoResponder);
  EXPECT_EQ(codeOf([&] { client_->sendStreamingStart(); }), RpcErrorCode::kNoResponder);
  EXPECT_GE(client_->stats().no_responder, 3u);
  EXPECT_EQ(client_->stats().timeouts, 0u);
}

// Not run against Apache RocketMQ 5.3.x, which cannot tell once a group has subscribed (docs/design/rpc.md).
TEST_F(RpcClientIT, ServerThatLeftIsNoResponderAgain) {
  startClient();
  // A server that was online and left: no responder again (after the cached verdict expires).
  startServer();
  ASSERT_TRUE(waitUntil(
      [&] {
        try {
          return client_->sendSync("hi", 5000ms).success();
        } catch (const RpcException&) {
          return false;
        }
      },
      20s));
  server_->close();
  ASSERT_TRUE(waitUntil(
      [&] { return codeOf([&] { client_->sendSync("x", 5000ms); }) == RpcErrorCode::kNoResponder; }, 20s));
}

TEST_F(RpcClientIT, FailFastCanBeTurnedOff) {
  RpcClientOptions co = clientOptions();
  co.fail_fast = false;
  startClient(co);
  EXPECT_THROW(client_->sendSync("nobody", 800ms), RpcTimeoutException);
}

// --- deadlines ---

TEST_F(RpcClientIT, RequestWhoseDeadlinePassedWhileTheServerWasDownIsNotProcessed) {
  startServer();
  server_->close();  // the group exists (offsets committed) but nobody serves
  RpcClientOptions co = clientOptions();
  co.fail_fast = false;  // send into the queue anyway
  startClient(co);
  EXPECT_THROW(client_->sendSync("stale", 1000ms), RpcTimeoutException);
  std::this_thread::sleep_for(500ms);
  int calls_before = receiver_->calls.load();
  startServer();  // same group: resumes at the committed offset and finds the stale request
  ASSERT_TRUE(waitUntil([&] { return server_->stats().expired_dropped >= 1; }, 30s))
      << toString(server_->stats());
  EXPECT_EQ(receiver_->calls.load(), calls_before);  // handler never called for it
  EXPECT_EQ(server_->stats().replies, 0u);
  // Fresh requests are served.
  EXPECT_EQ(client_->sendSync("fresh", 10000ms).payload(), "fresh");
}

// --- dedup ---

TEST_F(RpcClientIT, RedeliveredRequestGetsTheCachedReplyNotASecondCall) {
  startServer();
  startClient();
  ASSERT_TRUE(client_->sendSync("warm", 10000ms).success());
  int calls_before = receiver_->calls.load();
  // A request sent twice with the same correlation id, as a broker redelivery or a requester retry would.
  ProducerOptions po;
  po.namesrv_addr = testNamesrv();
  po.group = uniqueName("rpc_it_dup");
  Producer producer(po);
  producer.start();
  // A first request makes the brokers know this producer's channel, so replies to it can be pushed.
  ASSERT_EQ(producer.request(Message(topic_, "prime"), 10000ms).body(), "prime");
  calls_before = receiver_->calls.load();
  Message m(topic_, "twice");
  m.putProperty(property::kCorrelationId, "dedup-" + uniqueName("c"));
  m.putProperty(property::kReplyToClient, producer.clientId());
  m.putProperty(property::kTtl, "30000");
  producer.send(m);
  producer.send(m);
  ASSERT_TRUE(waitUntil([&] { return server_->stats().dedup_hits >= 1; }, 20s)) << toString(server_->stats());
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(receiver_->calls.load(), calls_before + 1);
  EXPECT_EQ(server_->stats().replies, 3u);  // warm, prime and the first copy; the copy got the cached reply
  EXPECT_EQ(server_->stats().reply_failures, 0u);
  producer.shutdown();
}

// --- streaming ---

TEST_F(RpcClientIT, StreamingSessionIsProcessedInOrderAndAnswered) {
  startServer();
  startClient();
  std::string id = client_->sendStreamingStart();
  EXPECT_EQ(id.size(), 36u);
  EXPECT_EQ(client_->stats().sessions_open, 1u);
  for (const char* part : {"Part", "1", "Part", "2"}) client_->sendStreamingMessage(id, part);
  RpcResponse r = client_->sendStreamingEnd(id, 10000ms);
  ASSERT_TRUE(r.success()) << r.errorMessage();
  EXPECT_EQ(r.payload(), "Part 1 Part 2");
  EXPECT_EQ(client_->stats().sessions_open, 0u);  // removed
  EXPECT_EQ(client_->stats().stream_messages, 4u);
  // Ended: later calls on it throw SessionException.
  EXPECT_THROW(client_->sendStreamingMessage(id, "late"), SessionException);
  EXPECT_THROW(client_->sendStreamingEnd(id, 1000ms), SessionException);
  EXPECT_THROW(client_->sendStreamingMessage("no-such-session", "x"), SessionException);
  EXPECT_THROW(client_->sendStreamingEnd("no-such-session", 1000ms), SessionException);
  // An empty session is answered too.
  std::string empty = client_->sendStreamingStart();
  EXPECT_EQ(client_->sendStreamingEnd(empty).payload(), "");
  EXPECT_EQ(server_->stats().sessions_completed, 2u);
}

TEST_F(RpcClientIT, MaxConcurrentSessionsIsEnforced) {
  startServer();
  RpcClientOptions co = clientOptions();
  co.max_concurrent_sessions = 2;
  startClient(co);
  std::string a = client_->sendStreamingStart();
  std::string b = client_->sendStreamingStart();
  EXPECT_EQ(codeOf([&] { client_->sendStreamingStart(); }), RpcErrorCode::kOverLimit);
  client_->sendStreamingEnd(a, 10000ms);
  std::string c = client_->sendStreamingStart();  // a slot is free again
  EXPECT_NE(c, b);
}

TEST_F(RpcClientIT, IdleSessionsExpireOnTheClient) {
  startServer();
  RpcClientOptions co = clientOptions();
  co.session_idle_timeout = 300ms;
  startClient(co);
  std::string id = client_->sendStreamingStart();
  // Each message refreshes the session's last activity: 8 x 100 ms spans well over the idle timeout.
  for (int i = 0; i < 8; ++i) {
    client_->sendStreamingMessage(id, "x");
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(client_->stats().sessions_expired, 0u);
  ASSERT_TRUE(waitUntil([&] { return client_->stats().sessions_expired == 1; }, 5s));
  try {
    client_->sendStreamingMessage(id, "y");
    FAIL();
  } catch (const SessionException& e) {
    EXPECT_NE(std::string(e.what()).find("expired"), std::string::npos) << e.what();
  }
  EXPECT_THROW(client_->sendStreamingEnd(id, 1000ms), SessionException);
}

TEST_F(RpcClientIT, IdleSessionsExpireOnTheServer) {
  RpcServerOptions so = serverOptions();
  so.session_idle_timeout = 300ms;
  startServer(so);
  startClient();
  std::string id = client_->sendStreamingStart();
  client_->sendStreamingMessage(id, "x");
  ASSERT_TRUE(waitUntil([&] { return server_->stats().sessions_expired == 1; }, 10s));
  try {
    client_->sendStreamingEnd(id, 10000ms);
    FAIL() << "expired session answered";
  } catch (const SessionException& e) {
    EXPECT_NE(std::string(e.what()).find("expired on the server"), std::string::npos) << e.what();
  }
}

TEST_F(RpcClientIT, SessionOverTheServerMemoryBoundGetsAnErrorReply) {
  RpcServerOptions so = serverOptions();
  so.max_session_bytes = 1000;
  startServer(so);
  startClient();
  std::string id = client_->sendStreamingStart();
  for (int i = 0; i < 5; ++i) client_->sendStreamingMessage(id, std::string(300, 'x'));
  RpcResponse r = client_->sendStreamingEnd(id, 10000ms);
  EXPECT_FALSE(r.success());
  EXPECT_EQ(r.errorCode(), RpcErrorCode::kOverLimit);
  EXPECT_NE(r.errorMessage().find("max-session-bytes"), std::string::npos) << r.errorMessage();
  EXPECT_EQ(server_->stats().session_overflows, 1u);
  EXPECT_EQ(server_->stats().sessions_open, 0u);  // the buffer was freed
  EXPECT_EQ(receiver_->stream_calls.load(), 0);
}

TEST_F(RpcClientIT, MessagesOfASessionAllGoToOneQueue) {
  startServer();
  startClient();
  // An independent observer group sees every message of the topic with its queue.
  std::mutex mu;
  std::map<std::string, std::set<int32_t>> queues_by_session;
  std::atomic<int> seen{0};
  PushConsumerOptions po;
  po.namesrv_addr = testNamesrv();
  po.group = uniqueName("rpc_it_observer");
  po.consume_from_where = ConsumeFromWhere::kFirstOffset;
  PushConsumer observer(po);
  observer.subscribe(topic_, "*");
  observer.setMessageListener([&](const std::vector<MessageExt>& msgs) {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& m : msgs) {
      std::string session = m.getProperty("RRPC_SESSION");
      if (session.empty()) continue;
      queues_by_session[session].insert(m.queueId());
      seen++;
    }
    return ConsumeStatus::kSuccess;
  });
  observer.start();
  std::vector<std::string> ids;
  for (int s = 0; s < 6; ++s) {
    std::string id = client_->sendStreamingStart();
    for (int i = 0; i < 20; ++i) client_->sendStreamingMessage(id, std::to_string(i));
    ASSERT_TRUE(client_->sendStreamingEnd(id, 10000ms).success());
    ids.push_back(id);
  }
  ASSERT_TRUE(waitUntil([&] { return seen.load() >= 6 * 22; }, 60s)) << seen.load();  // start + 20 + end each
  std::lock_guard<std::mutex> lock(mu);
  for (const auto& id : ids) EXPECT_EQ(queues_by_session[id].size(), 1u) << id;
  observer.shutdown();
}

TEST_F(RpcClientIT, StreamingEndTimesOut) {
  startServer();
  startClient();
  std::string id = client_->sendStreamingStart();
  client_->sendStreamingMessage(id, "sleep:2000");
  EXPECT_THROW(client_->sendStreamingEnd(id, 500ms), RpcTimeoutException);
  EXPECT_EQ(client_->stats().sessions_open, 0u);  // removed whatever the outcome
}

TEST_F(RpcClientIT, LateReplyIsReportedAsCorrelationException) {
  // A plain RocketMQ responder (not an RpcServer, which never answers past the deadline) that replies late.
  PushConsumerOptions po;
  po.namesrv_addr = testNamesrv();
  po.group = uniqueName("rpc_it_slow");
  PushConsumer slow(po);
  slow.subscribe(topic_, "*");
  slow.setReplyListener([](const MessageExt& req) {
    if (req.body() == "slow") std::this_thread::sleep_for(1500ms);
    return req.body();
  });
  slow.start();
  std::mutex mu;
  std::vector<std::string> reports;
  RpcClientOptions co = clientOptions();
  co.on_unmatched_reply = [&](const CorrelationException& e) {
    EXPECT_EQ(e.code(), RpcErrorCode::kCorrelation);
    std::lock_guard<std::mutex> lock(mu);
    reports.push_back(e.what());
  };
  startClient(co);
  ASSERT_TRUE(waitUntil(
      [&] {
        try {
          return client_->sendSync("ping", 2000ms).success();
        } catch (const RpcException&) {
          return false;
        }
      },
      30s));
  EXPECT_THROW(client_->sendSync("slow", 500ms), RpcTimeoutException);
  ASSERT_TRUE(waitUntil([&] { return client_->stats().unmatched_replies >= 1; }, 10s));
  ASSERT_TRUE(waitUntil(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return !reports.empty();
      },
      5s));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_NE(reports[0].find("matched no pending request"), std::string::npos) << reports[0];
  slow.shutdown();
}

// --- stats ---

TEST_F(RpcClientIT, StatsCountEachOutcomeOnce) {
  startServer();
  startClient();
  client_->sendSync("a", 5000ms);
  client_->sendSync("throw:x", 5000ms);
  EXPECT_THROW(client_->sendSync("sleep:1500", 300ms), RpcTimeoutException);
  RpcClientStats c = client_->stats();
  EXPECT_EQ(c.requests, 3u);
  EXPECT_EQ(c.succeeded, 1u);
  EXPECT_EQ(c.remote_errors, 1u);
  EXPECT_EQ(c.timeouts, 1u);
  EXPECT_EQ(c.send_failures + c.no_responder + c.closed + c.session_errors, 0u);
  EXPECT_EQ(c.in_flight, 0u);
  EXPECT_EQ(c.latency.count, 2u);
  ASSERT_TRUE(waitUntil([&] { return server_->stats().requests == 3; }, 10s));
  RpcServerStats s = server_->stats();
  EXPECT_EQ(s.replies, 1u);
  EXPECT_EQ(s.handler_errors, 1u);
  EXPECT_GE(s.handler_latency.count, 2u);
}

}  // namespace
}  // namespace rocketrpc
