// The RPC failure taxonomy: every client-layer failure maps to exactly one RpcErrorCode / exception type,
// error replies keep their kind through the RRPC_ERROR text, and RpcResult / RpcResponse behave as
// documented.
#include <gtest/gtest.h>

#include <set>

#include "rocketrpc/rpc.h"
#include "rpc/error_mapping.h"
#include "rpc/wire.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using rpc::ReplyErrorKind;

RpcResult mapError(std::exception_ptr e) {
  return rpc::mapRequestOutcome(Outcome<MessageExt>(std::move(e)), "request to topic T", 1000ms, 5us);
}

TEST(RpcErrorsTest, CodeNamesAreDistinct) {
  std::set<std::string_view> names;
  for (int c = static_cast<int>(RpcErrorCode::kInvalidArgument);
       c <= static_cast<int>(RpcErrorCode::kAccessDenied); ++c) {
    names.insert(rpcErrorCodeName(static_cast<RpcErrorCode>(c)));
  }
  EXPECT_EQ(names.size(), 13u);
  EXPECT_EQ(rpcErrorCodeName(RpcErrorCode::kAccessDenied), "AccessDenied");
  EXPECT_EQ(rpcErrorCodeName(RpcErrorCode::kNoResponder), "NoResponder");
}

TEST(RpcErrorsTest, RetriableOnlyForTransientFailures) {
  EXPECT_TRUE(RpcException(RpcErrorCode::kSendFailed, "x").retriable());
  EXPECT_TRUE(RpcException(RpcErrorCode::kNoResponder, "x").retriable());
  EXPECT_TRUE(RpcTimeoutException("x").retriable());
  EXPECT_TRUE(RpcException(RpcErrorCode::kOverLimit, "x").retriable());
  EXPECT_FALSE(RpcException(RpcErrorCode::kClosed, "x").retriable());
  EXPECT_FALSE(RpcException(RpcErrorCode::kNotStarted, "x").retriable());
  EXPECT_FALSE(RpcException(RpcErrorCode::kInvalidArgument, "x").retriable());
  EXPECT_FALSE(SessionException("x").retriable());
  EXPECT_FALSE(CorrelationException("x").retriable());
  EXPECT_FALSE(RpcException(RpcErrorCode::kAccessDenied, "x").retriable());
}

TEST(RpcErrorsTest, HierarchyDerivesFromRuntimeError) {
  try {
    throw SessionException("s");
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "s");
  }
  EXPECT_EQ(RpcTimeoutException("t").code(), RpcErrorCode::kTimeout);
  EXPECT_EQ(CorrelationException("c").code(), RpcErrorCode::kCorrelation);
  EXPECT_EQ(SessionException("s").code(), RpcErrorCode::kSession);
}

TEST(RpcErrorsTest, ClientFailuresMapToOneCodeEach) {
  struct Case {
    std::exception_ptr in;
    RpcErrorCode want;
  };
  std::vector<Case> cases = {
      {std::make_exception_ptr(MQException(ErrorCode::kSendFailed, "boom")), RpcErrorCode::kSendFailed},
      {std::make_exception_ptr(MQException(ErrorCode::kNoRoute, "no route")), RpcErrorCode::kSendFailed},
      {std::make_exception_ptr(MQException(ErrorCode::kNetwork, "net")), RpcErrorCode::kSendFailed},
      {std::make_exception_ptr(MQException(ErrorCode::kBrokerError, "b", 14)), RpcErrorCode::kSendFailed},
      {std::make_exception_ptr(RequestTimeoutException("late")), RpcErrorCode::kTimeout},
      {std::make_exception_ptr(MQException(ErrorCode::kClosed, "closed")), RpcErrorCode::kClosed},
      {std::make_exception_ptr(MQException(ErrorCode::kOverLimit, "many")), RpcErrorCode::kOverLimit},
      {std::make_exception_ptr(MQException(ErrorCode::kInvalidArgument, "big")),
       RpcErrorCode::kInvalidArgument},
      {std::make_exception_ptr(std::runtime_error("odd")), RpcErrorCode::kInternal},
      {std::make_exception_ptr(MQException(ErrorCode::kAccessDenied, "access denied: SEND_MESSAGE", 16)),
       RpcErrorCode::kAccessDenied},
  };
  for (const Case& c : cases) {
    RpcResult r = mapError(c.in);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.errorCode(), c.want) << r.errorMessage();
    EXPECT_NE(r.errorMessage().find("topic T"), std::string::npos) << r.errorMessage();
  }
  // A timeout is an RpcTimeoutException, catchable by type.
  RpcResult t = mapError(std::make_exception_ptr(RequestTimeoutException("late")));
  EXPECT_THROW(t.value(), RpcTimeoutException);
}

// A failure at start that reaches no name server or broker is Network in both layers (a PushConsumer throws
// ErrorCode::kNetwork; RpcServer/RpcClient::start used to turn it into SendFailed). Anything else maps as a send.
TEST(RpcErrorsTest, StartFailuresToReachTheClusterAreNetwork) {
  auto start = [](const MQException& e) {
    try {
      rpc::throwStartException(e, "starting RpcServer");
    } catch (const RpcException& r) {
      EXPECT_NE(std::string(r.what()).find("starting RpcServer"), std::string::npos) << r.what();
      return r.code();
    }
    return RpcErrorCode::kInternal;
  };
  EXPECT_EQ(start(MQException(ErrorCode::kNetwork, "connect refused")), RpcErrorCode::kNetwork);
  EXPECT_EQ(start(MQException(ErrorCode::kOperationTimeout, "no answer")), RpcErrorCode::kNetwork);
  EXPECT_EQ(start(MQException(ErrorCode::kAccessDenied, "denied", 16)), RpcErrorCode::kAccessDenied);
  EXPECT_EQ(start(MQException(ErrorCode::kInvalidArgument, "bad")), RpcErrorCode::kInvalidArgument);
  EXPECT_TRUE(RpcException(RpcErrorCode::kNetwork, "x").retriable());
  EXPECT_EQ(rpcErrorCodeName(RpcErrorCode::kNetwork), "Network");
}

// Names shared by the two enums mean the same: both name the same failure, and agree on retriability.
TEST(RpcErrorsTest, SharedNamesAgreeOnRetriability) {
  int shared = 0;
  for (int c = 1; c <= static_cast<int>(ErrorCode::kAccessDenied); ++c) {
    const auto client = static_cast<ErrorCode>(c);
    for (int r = 1; r <= static_cast<int>(RpcErrorCode::kNetwork); ++r) {
      const auto rpc_code = static_cast<RpcErrorCode>(r);
      if (errorCodeName(client) != rpcErrorCodeName(rpc_code)) continue;
      ++shared;
      EXPECT_EQ(MQException(client, "x").retriable(), RpcException(rpc_code, "x").retriable())
          << errorCodeName(client);
    }
  }
  EXPECT_EQ(shared, 8);  // InvalidArgument NotStarted Closed SendFailed Network OverLimit Internal AccessDenied
  // The one name that meant two things is gone: the client layer's non-request timeout has its own name.
  EXPECT_EQ(errorCodeName(ErrorCode::kOperationTimeout), "OperationTimeout");
}

TEST(RpcErrorsTest, ErrorRepliesKeepTheirKind) {
  auto reply = [](ReplyErrorKind kind, const std::string& text) {
    return mapError(std::make_exception_ptr(
        ReplyErrorException("responder failed: " + rpc::encodeErrorText(kind, text))));
  };
  RpcResult handler = reply(ReplyErrorKind::kHandler, "division by zero");
  ASSERT_TRUE(handler.ok());  // a reply arrived: not an exception
  EXPECT_FALSE(handler.value().success());
  EXPECT_EQ(handler.value().errorCode(), RpcErrorCode::kRemoteError);
  EXPECT_EQ(handler.value().errorMessage(), "division by zero");
  EXPECT_TRUE(handler.value().payload().empty());

  RpcResult limit = reply(ReplyErrorKind::kOverLimit, "too big");
  ASSERT_TRUE(limit.ok());
  EXPECT_EQ(limit.value().errorCode(), RpcErrorCode::kOverLimit);
  EXPECT_EQ(limit.value().errorMessage(), "too big");

  RpcResult session = reply(ReplyErrorKind::kSession, "session s expired");
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.errorCode(), RpcErrorCode::kSession);
  EXPECT_THROW(session.value(), SessionException);

  // A handler whose message looks like a marker is still a handler error, text intact.
  RpcResult tricky = reply(ReplyErrorKind::kHandler, "[Session] not really");
  ASSERT_TRUE(tricky.ok());
  EXPECT_EQ(tricky.value().errorMessage(), "[Session] not really");
}

TEST(RpcErrorsTest, ReplyMapsToSuccessfulResponse) {
  MessageExt reply;
  reply.setBody(std::string("a\0b", 3));
  reply.putProperty(property::kCorrelationId, "cid");
  RpcResult r = rpc::mapRequestOutcome(Outcome<MessageExt>(reply), "x", 1000ms, 42us);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.value().success());
  EXPECT_EQ(r.value().payload(), std::string_view("a\0b", 3));
  EXPECT_EQ(r.value().correlationId(), "cid");
  EXPECT_EQ(r.value().latency(), 42us);
  EXPECT_TRUE(r.value().errorMessage().empty());
}

TEST(RpcErrorsTest, SendExceptionsMapLikeRequests) {
  try {
    rpc::throwSendException(MQException(ErrorCode::kNoRoute, "no route for X"), "start of session s");
    FAIL();
  } catch (const RpcException& e) {
    EXPECT_EQ(e.code(), RpcErrorCode::kSendFailed);
    EXPECT_NE(std::string(e.what()).find("start of session s could not be sent"), std::string::npos);
  }
}

TEST(RpcErrorsTest, AccessDeniedIsItsOwnCodeNamingTheResource) {
  RpcResult r = mapError(std::make_exception_ptr(MQException(
      ErrorCode::kAccessDenied, "access denied: SEND_MESSAGE to topic T (broker-a): No default permission", 1)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.errorCode(), RpcErrorCode::kAccessDenied);
  EXPECT_NE(r.errorMessage().find("request to topic T: access denied: SEND_MESSAGE to topic T"), std::string::npos)
      << r.errorMessage();
  EXPECT_EQ(r.errorMessage().find("access denied: access denied"), std::string::npos) << r.errorMessage();
  try {
    rpc::throwSendException(MQException(ErrorCode::kAccessDenied, "access denied: x", 16), "start of session s");
    FAIL();
  } catch (const RpcException& e) {
    EXPECT_EQ(e.code(), RpcErrorCode::kAccessDenied);
    EXPECT_FALSE(e.retriable());
  }
}

TEST(RpcErrorsTest, RpcResultWithoutError) {
  RpcResult r(RpcResponse::makeOk("p"));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.errorMessage(), "");
  RpcResponse moved = std::move(r).value();
  EXPECT_EQ(moved.takePayload(), "p");
}

TEST(RpcWireTest, DeadlineFromPropertyOrBornPlusTtl) {
  MessageExt m;
  EXPECT_FALSE(rpc::requestDeadlineMs(m).has_value());
  m.setBornTimestamp(1000);
  m.putProperty(property::kTtl, "250");
  EXPECT_EQ(rpc::requestDeadlineMs(m), 1250);
  m.putProperty(rpc::prop::kDeadline, "5000");
  EXPECT_EQ(rpc::requestDeadlineMs(m), 5000);
  m.putProperty(rpc::prop::kDeadline, "junk");
  EXPECT_EQ(rpc::requestDeadlineMs(m), 1250);
}

TEST(RpcWireTest, SessionIdsAreUuidShapedAndUnique) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    std::string id = rpc::newUuid();
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[8], '-');
    EXPECT_EQ(id[23], '-');
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

}  // namespace
}  // namespace rocketrpc
