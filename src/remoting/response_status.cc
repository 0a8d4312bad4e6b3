#include "remoting/response_status.h"

#include "remoting/protocol/codes.h"

namespace rocketrpc::remoting {

bool isAccessDeniedResponse(int32_t code, std::string_view remark) {
  if (code == response_code::kNoPermission) return true;
  if (code != response_code::kSystemError) return false;
  // Exception class names as Apache's remark carries them (Throwable.toString() starts with the class name).
  for (std::string_view name : {"AclException", "AuthenticationException", "AuthorizationException"}) {
    if (remark.find(name) != std::string_view::npos) return true;
  }
  return false;
}

Status statusFromResponse(const RemotingCommand& response, std::string message) {
  if (isAccessDeniedResponse(response.code, response.remarkOrEmpty())) {
    return Status::accessDenied(response.code, "access denied: " + message);
  }
  return Status::remote(response.code, std::move(message));
}

}  // namespace rocketrpc::remoting
