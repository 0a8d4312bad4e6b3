// Consumer-side broker calls (protocol doc 3.3-3.5, 3.9): typed request builders, response parsers, and thin
// invokers over RemotingClient for PULL_MESSAGE, offsets, group membership, send-back and queue locks.
// Builders and parsers are pure; invokers are thread-safe (they only use the thread-safe RemotingClient).
// Broker addresses are resolved by the caller.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/executor.h"
#include "common/status.h"
#include "remoting/protocol/heartbeat_data.h"
#include "remoting/remoting_command.h"
#include "remoting/transport.h"
#include "rocketrpc/message.h"

namespace rocketrpc::client {

/// PullSysFlag bits of PullMessageRequestHeader.sysFlag.
namespace pull_sys_flag {
inline constexpr int32_t kCommitOffset = 0x1;
inline constexpr int32_t kSuspend = 0x2;
inline constexpr int32_t kSubscription = 0x4;
inline constexpr int32_t kClassFilter = 0x8;
inline constexpr int32_t kLitePull = 0x10;
}  // namespace pull_sys_flag

int32_t buildPullSysFlag(bool commit_offset, bool suspend, bool subscription, bool class_filter);

enum class PullStatus { kFound, kNoNewMsg, kNoMatchedMsg, kOffsetIllegal };
std::string_view pullStatusName(PullStatus status);

struct PullResult {
  PullStatus status = PullStatus::kNoNewMsg;
  int64_t next_begin_offset = 0;
  int64_t min_offset = 0;
  int64_t max_offset = 0;
  int64_t suggest_which_broker_id = 0;
  /// FOUND only: decoded, re-filtered by tag, with MIN_OFFSET/MAX_OFFSET properties and the broker name set.
  std::vector<MessageExt> messages;
  /// FOUND only: records of the body that could not be decoded (damaged on the broker, or an unsupported
  /// compression); they are skipped (and logged), like the Java client does, so the queue keeps moving.
  size_t damaged_records = 0;
  /// A damaged record could not even be delimited: it and every record after it in this body are lost.
  bool rest_of_batch_lost = false;
};

struct PullMessageArgs {
  std::string group;
  MessageQueue mq;
  int64_t queue_offset = 0;
  int32_t max_msg_nums = 32;
  int32_t sys_flag = pull_sys_flag::kSuspend;
  int64_t commit_offset = 0;
  std::chrono::milliseconds suspend_timeout{15000};
  /// Supplies subVersion and expressionType; its expression is sent only with the SUBSCRIPTION flag. Also
  /// used to re-filter the pulled messages by exact tag. Null: subVersion 0, no filtering.
  std::shared_ptr<const remoting::SubscriptionData> subscription;
};

remoting::RemotingCommand buildPullMessageRequest(const PullMessageArgs& args);

/// Maps a PULL_MESSAGE response: 0 FOUND, 19 NO_NEW_MSG, 20 NO_MATCHED_MSG, 21 OFFSET_ILLEGAL; any other code
/// -> RemoteError (remoteCode() = the response code). Records of the body that do not decode are skipped and
/// reported (damaged_records, an error log); the pull still succeeds.
Result<PullResult> parsePullMessageResponse(const remoting::RemotingCommand& response, const MessageQueue& mq,
                                            const remoting::SubscriptionData* subscription);

using PullDone = std::function<void(Result<PullResult>)>;

/// Sends PULL_MESSAGE to `addr`. The response is decoded and `done` called on `decode_pool` (or on the I/O
/// thread when it is null, or when the pool no longer accepts work: then with Closed). Called exactly once.
void pullMessageAsync(remoting::RemotingClient& client, const std::string& addr, const PullMessageArgs& args,
                      std::chrono::milliseconds timeout, ThreadPool* decode_pool, PullDone done);

// --- offsets (3.4) ---

remoting::RemotingCommand buildQueryConsumerOffsetRequest(const std::string& group, const MessageQueue& mq);
/// The stored offset (next message to consume); NotFound when the broker has none (QUERY_NOT_FOUND).
Result<int64_t> parseQueryConsumerOffsetResponse(const remoting::RemotingCommand& response);
Result<int64_t> queryConsumerOffset(remoting::RemotingClient& client, const std::string& addr,
                                    const std::string& group, const MessageQueue& mq,
                                    std::chrono::milliseconds timeout);

remoting::RemotingCommand buildUpdateConsumerOffsetRequest(const std::string& group, const MessageQueue& mq,
                                                           int64_t offset);
Status updateConsumerOffset(remoting::RemotingClient& client, const std::string& addr,
                            const std::string& group, const MessageQueue& mq, int64_t offset,
                            std::chrono::milliseconds timeout);
Status updateConsumerOffsetOneway(remoting::RemotingClient& client, const std::string& addr,
                                  const std::string& group, const MessageQueue& mq, int64_t offset,
                                  std::chrono::milliseconds timeout);

/// Requests carrying topic + queueId (GET_MAX_OFFSET also sends committed=true, as 5.x clients do).
remoting::RemotingCommand buildGetMaxOffsetRequest(const MessageQueue& mq);
remoting::RemotingCommand buildGetMinOffsetRequest(const MessageQueue& mq);
remoting::RemotingCommand buildSearchOffsetRequest(const MessageQueue& mq, int64_t timestamp_ms);
/// Reads the `offset` header of a SUCCESS response.
Result<int64_t> parseOffsetResponse(const remoting::RemotingCommand& response);

Result<int64_t> getMaxOffset(remoting::RemotingClient& client, const std::string& addr,
                             const MessageQueue& mq, std::chrono::milliseconds timeout);
Result<int64_t> getMinOffset(remoting::RemotingClient& client, const std::string& addr,
                             const MessageQueue& mq, std::chrono::milliseconds timeout);
/// First offset whose store time is >= timestamp_ms (boundary LOWER).
Result<int64_t> searchOffset(remoting::RemotingClient& client, const std::string& addr,
                             const MessageQueue& mq, int64_t timestamp_ms, std::chrono::milliseconds timeout);

// --- group membership (3.5, 3.9) ---

remoting::RemotingCommand buildGetConsumerIdListRequest(const std::string& group);
Result<std::vector<std::string>> parseGetConsumerIdListResponse(const remoting::RemotingCommand& response);
Result<std::vector<std::string>> getConsumerIdListByGroup(remoting::RemotingClient& client,
                                                          const std::string& addr, const std::string& group,
                                                          std::chrono::milliseconds timeout);

// --- retry (3.5) ---

/// CONSUMER_SEND_MSG_BACK: offset = msg.commitLogOffset(), originMsgId = msg.msgId(), originTopic =
/// msg.topic(). delay_level 0 lets the broker choose (3 + reconsumeTimes); < 0 sends straight to the
/// dead-letter queue.
remoting::RemotingCommand buildConsumerSendMsgBackRequest(const MessageExt& msg, const std::string& group,
                                                          int32_t delay_level, int32_t max_reconsume_times);
Status consumerSendMessageBack(remoting::RemotingClient& client, const std::string& addr,
                               const MessageExt& msg, const std::string& group, int32_t delay_level,
                               int32_t max_reconsume_times, std::chrono::milliseconds timeout);

// --- orderly queue locks (3.9) ---

/// LockBatchRequestBody / UnlockBatchRequestBody JSON.
std::string encodeLockBatchBody(const std::string& group, const std::string& client_id,
                                const std::set<MessageQueue>& mqs);
/// {"lockOKMQSet":[{"topic":..,"brokerName":..,"queueId":..}]} -> the locked queues.
Result<std::set<MessageQueue>> parseLockBatchResponseBody(std::string_view json);

/// LOCK_BATCH_MQ: returns the queues now locked by `client_id` (a subset of `mqs`).
Result<std::set<MessageQueue>> lockBatchMQ(remoting::RemotingClient& client, const std::string& addr,
                                           const std::string& group, const std::string& client_id,
                                           const std::set<MessageQueue>& mqs,
                                           std::chrono::milliseconds timeout);
Status unlockBatchMQ(remoting::RemotingClient& client, const std::string& addr, const std::string& group,
                     const std::string& client_id, const std::set<MessageQueue>& mqs, bool oneway,
                     std::chrono::milliseconds timeout);

/// A non-success response as a Status (remoting::statusFromResponse: AccessDenied for ACL refusals, else
/// RemoteError), remoteCode() = code, message = "<what>: code N: remark". `what` names the operation and
/// its resource (topic/group); empty leaves it to the caller's context.
Status responseError(const remoting::RemotingCommand& response, std::string_view what);

}  // namespace rocketrpc::client
