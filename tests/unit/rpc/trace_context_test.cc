// W3C traceparent validation and the thread's current traceparent (ScopedTraceparent, RpcContext).
#include "rocketrpc/trace_context.h"

#include <gtest/gtest.h>

#include "rocketrpc/rpc_errors.h"
#include "rocketrpc/rpc_server.h"
#include "rpc/context.h"
#include "rpc/tracing.h"

namespace rocketrpc {
namespace {

constexpr const char* kValid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceContextTest, ValidatesTheW3cFormat) {
  EXPECT_TRUE(isValidTraceparent(kValid));
  EXPECT_TRUE(isValidTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-extra"));
  EXPECT_FALSE(isValidTraceparent(""));
  EXPECT_FALSE(
      isValidTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x"));  // 00 is exact
  EXPECT_FALSE(isValidTraceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(isValidTraceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));  // uppercase
  EXPECT_FALSE(isValidTraceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
  EXPECT_FALSE(isValidTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
  EXPECT_FALSE(isValidTraceparent("00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(isValidTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g"));
}

TEST(TraceContextTest, ScopedValueNestsAndRestores) {
  EXPECT_EQ(ScopedTraceparent::current(), "");
  {
    ScopedTraceparent outer(kValid);
    EXPECT_EQ(ScopedTraceparent::current(), kValid);
    {
      const std::string inner_value = "00-11111111111111111111111111111111-2222222222222222-00";
      ScopedTraceparent inner(inner_value);
      EXPECT_EQ(ScopedTraceparent::current(), inner_value);
    }
    EXPECT_EQ(ScopedTraceparent::current(), kValid);
  }
  EXPECT_EQ(ScopedTraceparent::current(), "");
}

TEST(TraceContextTest, InvalidValueThrowsInvalidArgument) {
  try {
    ScopedTraceparent bad("not-a-traceparent\n");
    FAIL() << "no exception";
  } catch (const RpcException& e) {
    EXPECT_EQ(e.code(), RpcErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(ScopedTraceparent::current(), "");
}

TEST(TraceContextTest, HandlerContextIsCarriedOnAndAttachedToMessages) {
  RpcContext ctx("corr", "", std::chrono::system_clock::now());
  ctx.setTraceparent("garbage");
  EXPECT_EQ(ctx.traceparent(), "");  // invalid values are dropped
  ctx.setTraceparent(kValid);
  EXPECT_EQ(ctx.traceparent(), kValid);
  rpc::ScopedContext scope(&ctx);
  EXPECT_EQ(ScopedTraceparent::current(), kValid);
  Message m("t", "b");
  rpc::attachTraceparent(m);
  EXPECT_EQ(m.getProperty(std::string(kTraceparentProperty)), kValid);
  Message plain("t", "b");
  {
    // An explicit scope wins over the handler's context.
    const std::string other = "00-11111111111111111111111111111111-2222222222222222-01";
    ScopedTraceparent s(other);
    rpc::attachTraceparent(plain);
    EXPECT_EQ(plain.getProperty(std::string(kTraceparentProperty)), other);
  }
}

TEST(TraceContextTest, NothingAttachedWithoutATraceparent) {
  Message m("t", "b");
  rpc::attachTraceparent(m);
  EXPECT_EQ(m.getProperty(std::string(kTraceparentProperty)), "");
  EXPECT_TRUE(m.properties().find(std::string(kTraceparentProperty)) == m.properties().end());
}

}  // namespace
}  // namespace rocketrpc
