// The one translation of a peer's non-success response code + remark into a Status (house rule: "response
// code + remark -> Status in remoting"). Every client-side caller that turns a broker or name-server refusal
// into an error goes through statusFromResponse, so ACL refusals become StatusCode::kAccessDenied everywhere.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "remoting/remoting_command.h"

namespace rocketrpc::remoting {

/// True when a response means "refused by ACL" (authentication or permission):
///  - NO_PERMISSION (16): Apache 5.x ACL 2.0 (the broker's AuthenticationPipeline / AuthorizationPipeline throw
///    AbortProcessException(NO_PERMISSION, e.getMessage()), e.g. "check signature failed." or "User:u has no
///    permission to access Topic:T from 127.0.0.1, no matched policies."), Apache's permission refusals (a
///    topic or broker that forbids sending/reading) and rocketrpc-broker with aclEnable=true;
///  - SYSTEM_ERROR (1) whose remark names AclException (Apache 4.9 plain ACL: the validator runs as an RPC hook
///    whose exception NettyRemotingAbstract answers with SYSTEM_ERROR and remark "<exception>.toString(),
///    <first stack frame>", e.g. "org.apache.rocketmq.acl.common.AclException: Check signature failed for
///    accessKey=ak, org.apache...") or Apache 5.x's AuthenticationException / AuthorizationException.
bool isAccessDeniedResponse(int32_t code, std::string_view remark);

/// The Status for a non-success `response`: kAccessDenied (message "access denied: " + `message`) when
/// isAccessDeniedResponse, else kRemoteError. remoteCode() is response.code either way. `message` is the
/// caller's text and should name the operation, the resource (topic/group) and the peer, and quote the remark.
Status statusFromResponse(const RemotingCommand& response, std::string message);

}  // namespace rocketrpc::remoting
