// Message properties of the RPC layer on top of RocketMQ request-reply (docs/design/rpc.md, "Wire").
// A single request is a RIP-16 request (CORRELATION_ID, REPLY_TO_CLIENT, TTL set by the producer) plus
// RRPC_DEADLINE. A streaming session is: one `start` and N `msg` plain messages, then one `end` request, all
// on one queue. Error replies carry RRPC_STATUS=error, RRPC_ERROR=<text> and RRPC_ERROR_CODE=<kind>.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "rocketrpc/message.h"
#include "rocketrpc/rpc_errors.h"

namespace rocketrpc::rpc {

namespace prop {
/// "start" | "msg" | "end" (| "init"); absent on single requests (so Java requests are single requests).
inline constexpr std::string_view kKind = "RRPC_KIND";
inline constexpr std::string_view kSession = "RRPC_SESSION";
/// 0-based sequence number of a `msg` within its session.
inline constexpr std::string_view kSeq = "RRPC_SEQ";
/// On `end`: the number of `msg` messages the client sent.
inline constexpr std::string_view kCount = "RRPC_COUNT";
/// Absolute deadline of a request, epoch milliseconds.
inline constexpr std::string_view kDeadline = "RRPC_DEADLINE";
/// On error replies: "Handler", "OverLimit" or "Session" (also encoded as a prefix of RRPC_ERROR, see below).
inline constexpr std::string_view kErrorCode = "RRPC_ERROR_CODE";
/// "1" on a message whose payload is empty: its body is then the single byte kEmptyBody (see setPayload).
inline constexpr std::string_view kEmpty = "RRPC_EMPTY";
}  // namespace prop

namespace kind {
inline constexpr std::string_view kStart = "start";
inline constexpr std::string_view kMsg = "msg";
inline constexpr std::string_view kEnd = "end";
/// Marker a server sends to have the broker auto-create a missing request topic; ignored by servers.
inline constexpr std::string_view kInit = "init";
}  // namespace kind

/// Kinds of error replies a server sends.
enum class ReplyErrorKind { kHandler, kOverLimit, kSession };

/// The RRPC_ERROR text for an error of `kind`: "[OverLimit] text", "[Session] text"; handler texts go
/// verbatim, except that a handler text that itself starts with one of those markers (or "[Handler] ") gets
/// "[Handler] ".
std::string encodeErrorText(ReplyErrorKind kind, std::string_view text);
/// Inverse of encodeErrorText (unknown text -> kHandler, verbatim).
std::pair<ReplyErrorKind, std::string> decodeErrorText(std::string_view text);
std::string_view errorKindName(ReplyErrorKind kind);

/// The body an empty payload travels as (RocketMQ refuses empty bodies: the Java client rejects them and
/// Apache RocketMQ 5.x brokers fail on them).
inline constexpr std::string_view kEmptyBody = "-";

/// Sets `payload` as the body of `m`; an empty payload becomes kEmptyBody with RRPC_EMPTY=1.
void setPayload(Message& m, std::string_view payload);
/// The payload `m` carries: "" when RRPC_EMPTY=1, else its body.
std::string_view payloadOf(const Message& m);

/// Milliseconds since the epoch (system clock).
int64_t nowEpochMs();

/// The deadline of a request in epoch ms: RRPC_DEADLINE when present; else bornTimestamp + the TTL's budget
/// (requests of other clients, e.g. Java's or Go's, see ttlBudgetMs); nullopt when neither is known (no
/// deadline). Allocates nothing.
std::optional<int64_t> requestDeadlineMs(const MessageExt& msg);

/// The budget in ms of a request whose TTL property reads `ttl`: milliseconds (Java, rocketrpc's Producer),
/// except on a request from rocketmq-client-go (its UNIQ_KEY `uniq_key` passes remoting::isGoClientUniqId),
/// which writes whole seconds rounded down; then the budget is the end of that second, (ttl + 1) * 1000.
int64_t ttlBudgetMs(int64_t ttl, std::string_view uniq_key);

/// Parses a non-negative decimal integer; nullopt on anything else.
std::optional<int64_t> parseNonNegative(std::string_view s);

/// An unguessable id (common/random_id.h: 128 bits from the kernel's CSPRNG, UUID-shaped lowercase hex with
/// dashes). Used for streaming session ids: a session id lets whoever knows it add parts to the session.
std::string newUuid();

}  // namespace rocketrpc::rpc
