// remoting::statusFromResponse: the one place a refusal's response code + remark becomes a Status. The
// remarks below are the texts Apache RocketMQ answers with (4.9.7 plain ACL; 5.x ACL 2.0).
#include "remoting/response_status.h"

#include <gtest/gtest.h>

#include "remoting/protocol/codes.h"

namespace rocketrpc::remoting {
namespace {

RemotingCommand response(int32_t code, std::string remark) {
  RemotingCommand r;
  r.code = code;
  r.flag = kFlagResponse;
  r.remark = std::move(remark);
  return r;
}

TEST(ResponseStatusTest, Apache5NoPermissionIsAccessDenied) {
  for (const char* remark : {"check signature failed.", "User:bob is not found.",
                             "User:bob has no permission to access Topic:T from 127.0.0.1, no matched policies."}) {
    auto r = response(response_code::kNoPermission, remark);
    Status st = statusFromResponse(r, std::string("SEND_MESSAGE to topic T: ") + remark);
    EXPECT_EQ(st.code(), StatusCode::kAccessDenied) << remark;
    EXPECT_EQ(st.remoteCode(), 16);
    EXPECT_EQ(st.message().rfind("access denied: SEND_MESSAGE to topic T: ", 0), 0u) << st.message();
    EXPECT_EQ(st.toString().rfind("AccessDenied(16): ", 0), 0u) << st.toString();
  }
}

TEST(ResponseStatusTest, Apache49AclExceptionAsSystemErrorIsAccessDenied) {
  // NettyRemotingAbstract answers the ACL hook's exception with SYSTEM_ERROR and
  // RemotingHelper.exceptionSimpleDesc(e): "<class>: <message>, <first stack frame>".
  for (const char* remark :
       {"org.apache.rocketmq.acl.common.AclException: Check signature failed for accessKey=rocketmq2, "
        "org.apache.rocketmq.acl.plain.PlainPermissionManager.validate(PlainPermissionManager.java:683)",
        "org.apache.rocketmq.acl.common.AclException: No acl config for nobody, "
        "org.apache.rocketmq.acl.plain.PlainPermissionManager.validate(PlainPermissionManager.java:667)",
        "org.apache.rocketmq.acl.common.AclException: No default permission for topic:T, "
        "org.apache.rocketmq.acl.plain.PlainPermissionManager.checkPerm(PlainPermissionManager.java:605)"}) {
    Status st = statusFromResponse(response(response_code::kSystemError, remark), "x");
    EXPECT_EQ(st.code(), StatusCode::kAccessDenied) << remark;
    EXPECT_EQ(st.remoteCode(), 1);
  }
}

TEST(ResponseStatusTest, OtherRefusalsStayRemoteErrors) {
  EXPECT_EQ(statusFromResponse(response(response_code::kSystemError, "java.lang.NullPointerException"), "x").code(),
            StatusCode::kRemoteError);
  EXPECT_EQ(statusFromResponse(response(response_code::kSystemBusy, "[REJECTREQUEST]system busy"), "x").code(),
            StatusCode::kRemoteError);
  Status st = statusFromResponse(response(response_code::kTopicNotExist, "topic not exist"), "PULL of T");
  EXPECT_EQ(st.code(), StatusCode::kRemoteError);
  EXPECT_EQ(st.remoteCode(), response_code::kTopicNotExist);
  EXPECT_EQ(st.message(), "PULL of T");
  EXPECT_FALSE(isAccessDeniedResponse(response_code::kSuccess, "AclException"));
}

}  // namespace
}  // namespace rocketrpc::remoting
