// RpcClient / RpcServer preconditions that need no broker: option validation, calls before start() and after
// close(), argument ranges, close() idempotence. Behaviour against a broker is in
// tests/integration/rpc_*_test.cc.
#include <gtest/gtest.h>

#include "rocketrpc/rpc.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;

RpcClientOptions clientOptions() {
  RpcClientOptions o;
  o.broker_url = "127.0.0.1:1";  // nothing listens: these tests never reach a broker
  o.request_topic = "RPC_UNIT";
  return o;
}

template <typename F>
RpcErrorCode codeOf(F&& f) {
  try {
    f();
  } catch (const RpcException& e) {
    return e.code();
  }
  return RpcErrorCode::kInternal;  // "did not throw"
}

TEST(RpcClientTest, InvalidOptionsAreRejectedByTheConstructor) {
  RpcClientOptions o = clientOptions();
  o.request_topic = "";
  try {
    RpcClient c(o);
    FAIL();
  } catch (const RpcException& e) {
    EXPECT_EQ(e.code(), RpcErrorCode::kConfig);
    EXPECT_NE(std::string(e.what()).find("request-topic"), std::string::npos);
  }
  o = clientOptions();
  o.default_timeout = 0ms;
  EXPECT_EQ(codeOf([&] { RpcClient c(o); }), RpcErrorCode::kConfig);
}

TEST(RpcClientTest, EveryCallBeforeStartThrowsNotStarted) {
  RpcClient c(clientOptions());
  EXPECT_FALSE(c.isStarted());
  EXPECT_EQ(codeOf([&] { c.sendSync("x", 1000ms); }), RpcErrorCode::kNotStarted);
  EXPECT_EQ(codeOf([&] { c.sendSync("x"); }), RpcErrorCode::kNotStarted);
  EXPECT_EQ(codeOf([&] { c.sendAsync("x", 1000ms); }), RpcErrorCode::kNotStarted);
  EXPECT_EQ(codeOf([&] { c.sendAsync("x", 1000ms, [](RpcResult) {}); }), RpcErrorCode::kNotStarted);
  EXPECT_EQ(codeOf([&] { c.sendStreamingStart(); }), RpcErrorCode::kNotStarted);
  EXPECT_EQ(codeOf([&] { c.sendStreamingMessage("s", "x"); }), RpcErrorCode::kNotStarted);
  EXPECT_EQ(codeOf([&] { c.sendStreamingEnd("s", 1000ms); }), RpcErrorCode::kNotStarted);
  RpcClientStats s = c.stats();
  EXPECT_EQ(s.requests, 0u);
  EXPECT_EQ(s.in_flight, 0u);
}

TEST(RpcClientTest, TimeoutOutsideRangeIsAnInvalidArgument) {
  RpcClient c(clientOptions());
  for (auto t : {0ms, -5ms, 300001ms}) {
    EXPECT_EQ(codeOf([&] { c.sendSync("x", t); }), RpcErrorCode::kInvalidArgument) << t.count();
    EXPECT_EQ(codeOf([&] { c.sendAsync("x", t); }), RpcErrorCode::kInvalidArgument);
    EXPECT_EQ(codeOf([&] { c.sendStreamingEnd("s", t); }), RpcErrorCode::kInvalidArgument);
  }
  try {
    c.sendSync("x", 0ms);
  } catch (const RpcException& e) {
    EXPECT_NE(std::string(e.what()).find("timeout must be in 1..300000 ms"), std::string::npos);
  }
  EXPECT_EQ(codeOf([&] { c.sendAsync("x", 1000ms, nullptr); }), RpcErrorCode::kInvalidArgument);
}

TEST(RpcClientTest, CloseIsIdempotentAndLaterCallsThrowClosed) {
  RpcClient c(clientOptions());
  c.close();
  c.close();
  EXPECT_FALSE(c.isStarted());
  EXPECT_EQ(codeOf([&] { c.start(); }), RpcErrorCode::kClosed);
  EXPECT_EQ(codeOf([&] { c.sendSync("x", 1000ms); }), RpcErrorCode::kClosed);
  EXPECT_EQ(codeOf([&] { c.sendAsync("x", 1000ms); }), RpcErrorCode::kClosed);
  EXPECT_EQ(codeOf([&] { c.sendStreamingStart(); }), RpcErrorCode::kClosed);
  EXPECT_EQ(codeOf([&] { c.sendStreamingMessage("s", "x"); }), RpcErrorCode::kClosed);
}

TEST(RpcClientTest, StartedClientWithoutBrokerClosesCleanly) {
  // Producer start does not need the name server yet; close must still stop and join everything.
  RpcClient c(clientOptions());
  try {
    c.start();
  } catch (const RpcException& e) {
    GTEST_SKIP() << "start needs a name server here: " << e.what();
  }
  EXPECT_TRUE(c.isStarted());
  EXPECT_EQ(codeOf([&] { c.start(); }), RpcErrorCode::kInternal);  // already started
  EXPECT_THROW(c.sendStreamingMessage("nope", "x"), SessionException);
  EXPECT_THROW(c.sendStreamingEnd("nope", 1000ms), SessionException);
  c.close();
  EXPECT_FALSE(c.isStarted());
  c.close();
}

TEST(RpcServerTest, ConstructorChecksOptionsAndReceiver) {
  class Echo : public RpcReceiver {
   public:
    std::string processRequest(std::string_view r) override { return std::string(r); }
  };
  RpcServerOptions o;
  o.broker_url = "127.0.0.1:1";
  o.request_topic = "RPC_UNIT";
  EXPECT_EQ(codeOf([&] { RpcServer s(o, nullptr); }), RpcErrorCode::kInvalidArgument);
  RpcServer s(o, std::make_shared<Echo>());
  EXPECT_EQ(s.options().consumer_group, "rpc-server-RPC_UNIT");  // default group
  EXPECT_FALSE(s.isStarted());
  EXPECT_TRUE(s.assignedQueues().empty());
  EXPECT_EQ(s.stats().requests, 0u);
  s.close();
  s.close();
  EXPECT_EQ(codeOf([&] { s.start(); }), RpcErrorCode::kClosed);
  o.consume_threads = 0;
  try {
    RpcServer bad(o, std::make_shared<Echo>());
    FAIL();
  } catch (const RpcException& e) {
    EXPECT_EQ(e.code(), RpcErrorCode::kConfig);
    EXPECT_NE(std::string(e.what()).find("rocketmq.rpc.server.consume-threads"), std::string::npos);
  }
}

TEST(RpcStatsTest, ToStringNamesEveryCounter) {
  RpcClientStats c;
  c.timeouts = 3;
  std::string s = toString(c);
  EXPECT_NE(s.find("timeouts=3"), std::string::npos);
  EXPECT_NE(s.find("latency_us"), std::string::npos);
  RpcServerStats v;
  v.expired_dropped = 2;
  EXPECT_NE(toString(v).find("expired_dropped=2"), std::string::npos);
}

}  // namespace
}  // namespace rocketrpc
