// What an RpcServer does with consumed messages, without a broker: replies and error replies (readable by any
// requester through RRPC_STATUS / RRPC_ERROR), deadlines (expired requests dropped, remaining budget
// exposed), dedup of redelivered requests, streaming assembly, foreign messages.
#include "rpc/server_core.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "rocketrpc/producer.h"
#include "rocketrpc/rpc_server.h"
#include "rpc/wire.h"

namespace rocketrpc::rpc {
namespace {

using namespace std::chrono_literals;

class RecordingReceiver : public RpcReceiver {
 public:
  std::string processRequest(std::string_view request) override {
    calls++;
    if (const RpcContext* ctx = RpcContext::current()) {
      std::lock_guard<std::mutex> lock(mu);
      last_remaining = ctx->remaining();
      last_correlation = ctx->correlationId();
    }
    if (request == "throw") throw std::invalid_argument("bad input: throw");
    if (request == "throw-int") throw 42;
    return "re:" + std::string(request);
  }
  std::string processStreamingRequest(const std::string& session_id,
                                      const std::vector<std::string>& messages) override {
    stream_calls++;
    std::string out;
    for (const auto& m : messages) out += (out.empty() ? "" : " ") + m;
    if (out == "fail") throw std::runtime_error("stream failed");
    std::lock_guard<std::mutex> lock(mu);
    last_session = session_id;
    return out;
  }
  std::atomic<int> calls{0};
  std::atomic<int> stream_calls{0};
  std::mutex mu;
  std::chrono::milliseconds last_remaining{0};
  std::string last_correlation;
  std::string last_session;
};

class ServerCoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.broker_url = "127.0.0.1:9876";
    options_.request_topic = "T";
    options_.stream_gap_timeout = 100ms;
    receiver_ = std::make_shared<RecordingReceiver>();
    make();
  }
  void make() {
    core_ = std::make_unique<ServerCore>(
        options_, receiver_,
        [this](const Message& reply, ServerCore::ReplyDone done) {
          if (fail_sends_) throw MQException(ErrorCode::kSendFailed, "broker down");
          std::lock_guard<std::mutex> lock(mu_);
          replies_.push_back(reply);
          if (defer_done_) {
            pending_done_.push_back(std::move(done));
          } else {
            done(nullptr);
          }
        },
        [this] { return now_ms_.load(); });
  }
  MessageExt request(const std::string& body, const std::string& cid, int64_t deadline = 0) {
    MessageExt m;
    m.setTopic("T");
    m.setBody(body);
    m.putProperty(property::kCluster, "DefaultCluster");
    m.putProperty(property::kReplyToClient, "127.0.0.1@client");
    m.putProperty(property::kCorrelationId, cid);
    m.putProperty(property::kTtl, "3000");
    m.setBornTimestamp(now_ms_.load());
    m.putProperty(prop::kDeadline, std::to_string(deadline ? deadline : now_ms_.load() + 3000));
    return m;
  }
  MessageExt streamMsg(const std::string& session, std::string_view kind, int64_t seq,
                       const std::string& body) {
    MessageExt m;
    m.setTopic("T");
    m.setBody(body);
    m.putProperty(prop::kKind, kind);
    m.putProperty(prop::kSession, session);
    if (seq >= 0) m.putProperty(prop::kSeq, std::to_string(seq));
    return m;
  }
  MessageExt streamEnd(const std::string& session, int64_t count, const std::string& cid) {
    MessageExt m = request("", cid);
    m.putProperty(prop::kKind, kind::kEnd);
    m.putProperty(prop::kSession, session);
    m.putProperty(prop::kCount, std::to_string(count));
    return m;
  }
  std::vector<Message> replies() {
    std::lock_guard<std::mutex> lock(mu_);
    return replies_;
  }

  RpcServerOptions options_;
  std::shared_ptr<RecordingReceiver> receiver_;
  std::unique_ptr<ServerCore> core_;
  std::atomic<int64_t> now_ms_{1'700'000'000'000};
  std::atomic<bool> fail_sends_{false};
  bool defer_done_ = false;  // set before onMessage: completions wait in pending_done_
  std::mutex mu_;
  std::vector<Message> replies_;
  std::vector<ServerCore::ReplyDone> pending_done_;
};

TEST_F(ServerCoreTest, RepliesWithTheHandlerResult) {
  core_->onMessage(request("hello", "c1"));
  auto r = replies();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].body(), "re:hello");
  EXPECT_EQ(r[0].topic(), "DefaultCluster_REPLY_TOPIC");
  EXPECT_EQ(r[0].getProperty(property::kCorrelationId), "c1");
  EXPECT_EQ(r[0].getProperty(property::kMessageType), "reply");
  EXPECT_FALSE(r[0].hasProperty(reply_property::kStatus));
  RpcServerStats s = core_->stats();
  EXPECT_EQ(s.requests, 1u);
  EXPECT_EQ(s.replies, 1u);
  EXPECT_EQ(s.handler_latency.count, 1u);
  EXPECT_EQ(s.in_flight, 0u);
}

TEST_F(ServerCoreTest, HandlerExceptionBecomesAnErrorReplyAnyRequesterCanRecognise) {
  core_->onMessage(request("throw", "c1"));
  core_->onMessage(request("throw-int", "c2"));
  auto r = replies();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].getProperty(reply_property::kStatus), "error");
  EXPECT_EQ(r[0].getProperty(reply_property::kError), "bad input: throw");
  EXPECT_EQ(r[0].getProperty(prop::kErrorCode), "Handler");
  EXPECT_EQ(r[0].body(), "bad input: throw");
  EXPECT_EQ(r[1].getProperty(reply_property::kError), "unknown error");
  EXPECT_EQ(core_->stats().handler_errors, 2u);
  EXPECT_EQ(core_->stats().replies, 0u);
}

TEST_F(ServerCoreTest, ExpiredRequestIsDroppedWithoutCallingTheHandler) {
  core_->onMessage(request("late", "c1", now_ms_.load() - 1));
  EXPECT_EQ(receiver_->calls.load(), 0);
  EXPECT_TRUE(replies().empty());
  EXPECT_EQ(core_->stats().expired_dropped, 1u);
}

TEST_F(ServerCoreTest, JavaStyleRequestUsesBornTimestampPlusTtl) {
  MessageExt m = request("java", "c1");
  m.clearProperty(prop::kDeadline);
  m.setBornTimestamp(now_ms_.load() - 5000);  // TTL 3000: expired 2 s ago
  core_->onMessage(m);
  EXPECT_EQ(core_->stats().expired_dropped, 1u);
  m.setBornTimestamp(now_ms_.load());
  core_->onMessage(m);
  EXPECT_EQ(replies().size(), 1u);
}

// rocketmq-client-go v2.1.x writes TTL in whole seconds (int(ttl.Seconds())): a 500 ms Go request says
// TTL=0, a 3 s one TTL=3. Its UNIQ_KEY (class-loader field 00000000) says so; it is served until the end of
// that second.
TEST_F(ServerCoreTest, GoRequestTtlIsReadAsSeconds) {
  MessageExt m = request("go", "g1");
  m.clearProperty(prop::kDeadline);
  m.putProperty(property::kUniqClientMessageId, "7F0000013039000000000001D4C00001");
  m.putProperty(property::kTtl, "0");  // Request(ctx, 500*time.Millisecond, msg)
  m.setBornTimestamp(now_ms_.load() - 400);
  core_->onMessage(m);
  EXPECT_EQ(core_->stats().expired_dropped, 0u);
  ASSERT_EQ(replies().size(), 1u);
  m.putProperty(property::kCorrelationId, "g2");
  m.putProperty(property::kTtl, "3");  // 3 s, 2.5 s after it was born: still live
  m.setBornTimestamp(now_ms_.load() - 2500);
  core_->onMessage(m);
  EXPECT_EQ(replies().size(), 2u);
  m.putProperty(property::kCorrelationId, "g3");
  m.setBornTimestamp(now_ms_.load() - 4000);  // past the end of its fourth second: its requester gave up
  core_->onMessage(m);
  EXPECT_EQ(core_->stats().expired_dropped, 1u);
  EXPECT_EQ(replies().size(), 2u);
}

TEST_F(ServerCoreTest, JavaRequestTtlStaysMilliseconds) {
  MessageExt m = request("java", "j1");
  m.clearProperty(prop::kDeadline);
  m.putProperty(property::kUniqClientMessageId, "7F00000130391B6D4C3A1F2B00000001");  // class loader hash
  m.putProperty(property::kTtl, "3");
  m.setBornTimestamp(now_ms_.load() - 400);
  core_->onMessage(m);
  EXPECT_EQ(core_->stats().expired_dropped, 1u);
  EXPECT_TRUE(replies().empty());
}

TEST_F(ServerCoreTest, HandlerSeesItsRemainingBudget) {
  // The real clock decides remaining(); give a deadline 2 s from the real now.
  int64_t real_now = nowEpochMs();
  now_ms_ = real_now;
  core_->onMessage(request("x", "c9", real_now + 2000));
  std::lock_guard<std::mutex> lock(receiver_->mu);
  EXPECT_GT(receiver_->last_remaining.count(), 1000);
  EXPECT_LE(receiver_->last_remaining.count(), 2000);
  EXPECT_EQ(receiver_->last_correlation, "c9");
  EXPECT_EQ(RpcContext::current(), nullptr);  // only inside the handler
}

TEST_F(ServerCoreTest, ReplyIsNotSentWhenTheHandlerFinishesPastTheDeadline) {
  class Slow : public RpcReceiver {
   public:
    explicit Slow(std::atomic<int64_t>* clock) : clock_(clock) {}
    std::string processRequest(std::string_view) override {
      *clock_ += 5000;  // the handler "takes" 5 s
      return "too late";
    }
    std::atomic<int64_t>* clock_;
  };
  core_ = std::make_unique<ServerCore>(
      options_, std::make_shared<Slow>(&now_ms_), [this](const Message& m, ServerCore::ReplyDone done) {
        replies_.push_back(m);
        done(nullptr);
      },
      [this] { return now_ms_.load(); });
  core_->onMessage(request("x", "c1"));
  EXPECT_TRUE(replies().empty());
  EXPECT_EQ(core_->stats().late_replies_dropped, 1u);
}

TEST_F(ServerCoreTest, RedeliveredRequestGetsTheCachedReplyWithoutSecondCall) {
  MessageExt m = request("once", "dup-1");
  core_->onMessage(m);
  core_->onMessage(m);
  EXPECT_EQ(receiver_->calls.load(), 1);
  auto r = replies();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].body(), "re:once");
  EXPECT_EQ(r[1].getProperty(property::kCorrelationId), "dup-1");
  EXPECT_EQ(core_->stats().dedup_hits, 1u);
}

TEST_F(ServerCoreTest, ConcurrentDuplicatesCallTheHandlerOnce) {
  MessageExt m = request("once", "dup-2");
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) threads.emplace_back([&] { core_->onMessage(m); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(receiver_->calls.load(), 1);
  EXPECT_EQ(core_->stats().dedup_hits, 7u);
}

TEST_F(ServerCoreTest, DedupCanBeTurnedOff) {
  options_.dedup_cache_size = 0;
  make();
  MessageExt m = request("twice", "dup-3");
  core_->onMessage(m);
  core_->onMessage(m);
  EXPECT_EQ(receiver_->calls.load(), 2);
}

TEST_F(ServerCoreTest, FailedReplyIsCountedAndNotCached) {
  fail_sends_ = true;
  MessageExt m = request("x", "c1");
  core_->onMessage(m);
  EXPECT_EQ(core_->stats().reply_failures, 1u);
  fail_sends_ = false;
  core_->onMessage(m);  // redelivery: processed again, since no reply went out
  EXPECT_EQ(receiver_->calls.load(), 2);
  EXPECT_EQ(replies().size(), 1u);
}

TEST_F(ServerCoreTest, ReplyIsSentWithoutWaitingForItsCompletion) {
  defer_done_ = true;
  core_->onMessage(request("a", "c1"));
  core_->onMessage(request("b", "c2"));  // the first send has not completed: the handler still runs
  EXPECT_EQ(receiver_->calls.load(), 2);
  ASSERT_EQ(replies().size(), 2u);
  EXPECT_EQ(core_->stats().replies, 2u);
  ASSERT_EQ(pending_done_.size(), 2u);
  pending_done_[0](nullptr);
  pending_done_[1](nullptr);
  EXPECT_EQ(core_->stats().replies, 2u);
  EXPECT_EQ(core_->stats().reply_failures, 0u);
}

TEST_F(ServerCoreTest, ReplyFailingLaterIsCountedAndNotCached) {
  defer_done_ = true;
  MessageExt m = request("x", "c1");
  core_->onMessage(m);
  ASSERT_EQ(pending_done_.size(), 1u);
  core_->onMessage(m);  // redelivered while the reply is in flight: answered from the cache
  EXPECT_EQ(receiver_->calls.load(), 1);
  EXPECT_EQ(core_->stats().dedup_hits, 1u);
  ASSERT_EQ(pending_done_.size(), 2u);
  pending_done_[0](std::make_exception_ptr(MQException(ErrorCode::kSendFailed, "broker down")));
  pending_done_[1](nullptr);
  RpcServerStats s = core_->stats();
  EXPECT_EQ(s.reply_failures, 1u);
  EXPECT_EQ(s.replies, 0u);
  defer_done_ = false;
  core_->onMessage(m);  // the failed reply was forgotten: processed again
  EXPECT_EQ(receiver_->calls.load(), 2);
  EXPECT_EQ(core_->stats().replies, 1u);
}

TEST_F(ServerCoreTest, PlainMessagesAreIgnored) {
  MessageExt m;
  m.setBody("not a request");
  core_->onMessage(m);
  core_->onMessage(streamMsg("s", "bogus", 0, "x"));
  core_->onMessage(streamMsg("s", kind::kMsg, -1, "no seq"));
  EXPECT_EQ(core_->stats().ignored, 3u);
  EXPECT_EQ(receiver_->calls.load(), 0);
}

TEST_F(ServerCoreTest, StreamingSessionIsAssembledInOrderAndAnswered) {
  core_->onMessage(streamMsg("s1", kind::kStart, -1, ""));
  core_->onMessage(streamMsg("s1", kind::kMsg, 1, "world"));
  core_->onMessage(streamMsg("s1", kind::kMsg, 0, "hello"));
  core_->onMessage(streamEnd("s1", 2, "e1"));
  auto r = replies();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].body(), "hello world");
  EXPECT_EQ(r[0].getProperty(property::kCorrelationId), "e1");
  std::lock_guard<std::mutex> lock(receiver_->mu);
  EXPECT_EQ(receiver_->last_session, "s1");
  EXPECT_EQ(core_->stats().sessions_completed, 1u);
  EXPECT_EQ(core_->stats().stream_messages, 2u);
}

TEST_F(ServerCoreTest, EndBeforeItsMessagesIsAnsweredWhenTheyArrive) {
  core_->onMessage(streamEnd("s2", 2, "e2"));
  EXPECT_TRUE(replies().empty());
  core_->onMessage(streamMsg("s2", kind::kMsg, 0, "a"));
  core_->onMessage(streamMsg("s2", kind::kMsg, 1, "b"));
  auto r = replies();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].body(), "a b");
}

TEST_F(ServerCoreTest, StreamingHandlerErrorAndGapAreErrorReplies) {
  core_->onMessage(streamMsg("s3", kind::kMsg, 0, "fail"));
  core_->onMessage(streamEnd("s3", 1, "e3"));
  core_->onMessage(streamMsg("s4", kind::kMsg, 1, "x"));
  core_->onMessage(streamEnd("s4", 2, "e4"));
  core_->sweep(std::chrono::steady_clock::now() + 200ms);
  auto r = replies();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].getProperty(reply_property::kError), "stream failed");
  EXPECT_EQ(r[1].getProperty(prop::kErrorCode), "Session");
  auto decoded = decodeErrorText(r[1].getProperty(reply_property::kError));
  EXPECT_EQ(decoded.first, ReplyErrorKind::kSession);
  EXPECT_NE(decoded.second.find("gap"), std::string::npos);
  EXPECT_EQ(core_->stats().session_errors, 1u);
  EXPECT_EQ(core_->stats().handler_errors, 1u);
}

TEST_F(ServerCoreTest, OversizedSessionGetsOverLimitReply) {
  options_.max_session_bytes = 8;
  make();
  core_->onMessage(streamMsg("s5", kind::kMsg, 0, "12345"));
  core_->onMessage(streamMsg("s5", kind::kMsg, 1, "67890"));
  core_->onMessage(streamEnd("s5", 2, "e5"));
  auto r = replies();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].getProperty(prop::kErrorCode), "OverLimit");
  EXPECT_EQ(core_->stats().limit_errors, 1u);
  EXPECT_EQ(core_->stats().session_overflows, 1u);
  EXPECT_EQ(receiver_->stream_calls.load(), 0);
}

TEST_F(ServerCoreTest, DefaultStreamingHandlerRefusesStreams) {
  class OnlyRequests : public RpcReceiver {
   public:
    std::string processRequest(std::string_view r) override { return std::string(r); }
  };
  core_ = std::make_unique<ServerCore>(
      options_, std::make_shared<OnlyRequests>(),
      [this](const Message& m, ServerCore::ReplyDone done) {
        replies_.push_back(m);
        done(nullptr);
      },
      [this] { return now_ms_.load(); });
  core_->onMessage(streamEnd("s6", 0, "e6"));
  auto r = replies();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].getProperty(reply_property::kError), "streaming is not supported by this receiver");
}

}  // namespace
}  // namespace rocketrpc::rpc
