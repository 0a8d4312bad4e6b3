// ACL request signing as Apache RocketMQ's AclClientRPCHook does it, and the matching check a server makes
// (Apache's PlainAccessResource / 5.x DefaultAuthenticationContextBuilder):
//
//   content   = concat(values of every header field except "Signature", in ascending key order) ++ body
//   signature = base64(HMAC-SHA1(key = secret key, data = content))
//
// The signer first adds "AccessKey" (and "SecurityToken" when given) to the header, so both are covered.
// Values are signed as they travel (the header's string values), so JSON and binary headers sign the same.
// Secrets are only ever read here; nothing in this file logs.
#pragma once

#include <string>
#include <string_view>

#include "remoting/remoting_command.h"

namespace rocketrpc::remoting {

/// Header field names of the ACL protocol (Apache's SessionCredentials).
inline constexpr std::string_view kAclAccessKey = "AccessKey";
inline constexpr std::string_view kAclSecurityToken = "SecurityToken";
inline constexpr std::string_view kAclSignature = "Signature";
/// Left out of the signed content by Apache's servers (MixAll.UNIQUE_MSG_QUERY_FLAG).
inline constexpr std::string_view kAclUnsignedQueryFlag = "_UNIQUE_KEY_QUERY";

struct AclCredentials {
  std::string access_key;
  std::string secret_key;
  std::string security_token;  // empty: not sent
  bool enabled() const { return !access_key.empty(); }
};

/// base64(HMAC-SHA1(secret, data)): Apache's AclSigner.calSignature.
std::string aclHmacSha1Base64(std::string_view data, std::string_view secret);

/// The bytes a signature covers: the values of `cmd`'s header fields except Signature (and, with
/// `server_side`, except _UNIQUE_KEY_QUERY, which Apache's servers skip), by ascending key, then the body.
std::string aclSignedContent(const RemotingCommand& cmd, bool server_side);

/// Adds AccessKey, SecurityToken (when set) and Signature to `request`. No-op when !credentials.enabled().
void aclSignRequest(RemotingCommand& request, const AclCredentials& credentials);

/// True when `cmd` carries a Signature equal to the one `secret` gives (constant-time comparison).
bool aclSignatureMatches(const RemotingCommand& cmd, std::string_view secret);

}  // namespace rocketrpc::remoting
