// The access decision for one request, as Apache RocketMQ 4.9's PlainAccessValidator.parse and
// PlainPermissionManager.validate make it, plus rocketrpc's own rules (docs/design/broker.md, "Access control"):
//   1. a remote address on the global white list passes (no signature needed);
//   2. otherwise the request must carry a known AccessKey;
//   3. an address on the account's whiteRemoteAddress passes (Apache: no signature, no permission check);
//   4. the Signature must match (HMAC-SHA1 with the account's secret, remoting/acl_signer.h);
//   5. admin codes need admin=true; every resource the request names needs its permission (the account's
//      topicPerms/groupPerms entry, else its defaultTopicPerm/defaultGroupPerm; an admin with no entries may do
//      everything);
//   6. a reply (324/325) must name a correlation id of a request this broker stored, for the same
//      REPLY_TO_CLIENT, and the account must be allowed to SUB that request's topic.
// Pure functions over an AclConfig (and a ReplyRegistry for rule 6); thread-safe; never throw.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/acl/acl_config.h"
#include "remoting/remoting_command.h"

namespace rocketrpc::broker::acl {

class ReplyRegistry;

/// What a request code needs, derived from its header (and, for HEART_BEAT, its body).
struct Requirements {
  bool admin = false;
  /// Resource (topic, or "%RETRY%<group>" for a group) -> needed perm, in the order found.
  std::vector<std::pair<std::string, uint8_t>> resources;
  /// Set when the request cannot be understood well enough to decide (e.g. a heartbeat body that is not JSON).
  std::string malformed;
  /// SEND_REPLY_MESSAGE(_V2): rule 6 applies.
  bool reply = false;
};

/// The permission table (docs/design/broker.md). Unknown codes need a valid signature only.
Requirements requirementsOf(const remoting::RemotingCommand& request);

/// True for the codes that need admin=true.
bool isAdminCode(int32_t code);

struct Verdict {
  bool allowed = false;
  /// For a refusal: the NO_PERMISSION remark, naming what was refused ("No permission: ..."). Never a secret.
  std::string reason;
  /// The access key the request was checked as (empty when white-listed by the global list or unsigned).
  std::string access_key;
};

/// Decides one request. `remote_host` is the peer address without the port. `replies` null turns rule 6 off
/// (aclReplyCheckEnable=false: replies need a valid signature only, as in Apache); `now_ms` is the clock for
/// its expiry.
Verdict checkAccess(const AclConfig& config, const remoting::RemotingCommand& request, std::string_view remote_host,
                    ReplyRegistry* replies, int64_t now_ms);

/// A send (10, 310, 320) of a RIP-16 request: its topic, CORRELATION_ID and REPLY_TO_CLIENT, which the broker
/// notes in its ReplyRegistry once the send is allowed. Nullopt for other codes and ordinary messages.
struct TrackedRequest {
  std::string topic;
  std::string correlation_id;
  std::string reply_to_client;
};
std::optional<TrackedRequest> trackedRequestOf(const remoting::RemotingCommand& request);

/// "host:port" (or "v6:addr:port") -> host, as Apache's PlainAccessResource takes it (up to the last ':').
std::string_view hostOf(std::string_view remote_addr);

}  // namespace rocketrpc::broker::acl
