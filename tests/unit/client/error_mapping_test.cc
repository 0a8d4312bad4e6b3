// client::toException: AccessDenied keeps its own ErrorCode, in a send context too (never kSendFailed).
#include "client/error_mapping.h"

#include <gtest/gtest.h>

namespace rocketrpc::client {
namespace {

ErrorCode codeOf(const Status& st, bool send_context) {
  try {
    std::rethrow_exception(toException(st, send_context));
  } catch (const MQException& e) {
    return e.code();
  }
  return ErrorCode::kInternal;
}

TEST(ClientErrorMappingTest, AccessDeniedIsNeverASendFailureOrABrokerError) {
  Status denied = Status::accessDenied(16, "access denied: SEND_MESSAGE to topic T: check signature failed.");
  EXPECT_EQ(codeOf(denied, /*send_context=*/true), ErrorCode::kAccessDenied);
  EXPECT_EQ(codeOf(denied, /*send_context=*/false), ErrorCode::kAccessDenied);
  try {
    throwStatus(denied, true);
  } catch (const MQException& e) {
    EXPECT_EQ(e.responseCode(), 16);
    EXPECT_FALSE(e.retriable());
    EXPECT_NE(std::string(e.what()).find("topic T"), std::string::npos) << e.what();
  }
  EXPECT_EQ(errorCodeName(ErrorCode::kAccessDenied), "AccessDenied");
  // The neighbours keep their mapping.
  EXPECT_EQ(codeOf(Status::remote(16 + 1, "x"), true), ErrorCode::kSendFailed);
  EXPECT_EQ(codeOf(Status::remote(17, "x"), false), ErrorCode::kBrokerError);
}

}  // namespace
}  // namespace rocketrpc::client
