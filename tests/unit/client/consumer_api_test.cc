// Encode/decode parts of the consumer broker calls (no network).
#include "client/consumer_api.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "remoting/protocol/codes.h"
#include "remoting/protocol/message_codec.h"

namespace rocketrpc::client {
namespace {

namespace rc = remoting::request_code;
namespace rs = remoting::response_code;
using remoting::RemotingCommand;

const MessageQueue kMq{"TopicTest", "broker-a", 3};

std::string field(const RemotingCommand& cmd, std::string_view key) {
  const std::string* v = cmd.get(key);
  return v ? *v : std::string("<absent>");
}

MessageExt storedMessage(int64_t queue_offset, const std::string& tags, const std::string& body) {
  MessageExt m;
  m.setTopic(kMq.topic);
  m.setBody(body);
  if (!tags.empty()) m.setTags(tags);
  m.putProperty(property::kUniqClientMessageId, "UNIQ" + std::to_string(queue_offset));
  m.setQueueId(kMq.queue_id);
  m.setQueueOffset(queue_offset);
  m.setCommitLogOffset(1000 + queue_offset);
  m.setBornHost("127.0.0.1:50000");
  m.setStoreHost("127.0.0.1:10911");
  m.setBornTimestamp(1700000000000);
  m.setStoreTimestamp(1700000000001);
  return m;
}

RemotingCommand pullResponse(int32_t code, std::string body = {}) {
  RemotingCommand r;
  r.code = code;
  r.flag = remoting::kFlagResponse;
  r.set("nextBeginOffset", int64_t{13});
  r.set("minOffset", int64_t{0});
  r.set("maxOffset", int64_t{20});
  r.set("suggestWhichBrokerId", int64_t{1});
  r.body = std::move(body);
  return r;
}

TEST(ConsumerApiTest, PullSysFlagBits) {
  EXPECT_EQ(buildPullSysFlag(false, true, false, false), 2);
  EXPECT_EQ(buildPullSysFlag(true, true, false, false), 3);
  EXPECT_EQ(buildPullSysFlag(true, true, true, true), 15);
}

TEST(ConsumerApiTest, PullRequestHeader) {
  auto sub = remoting::buildSubscription("TopicTest", "TagA || TagB", 1700000000123);
  ASSERT_TRUE(sub.isOk());
  PullMessageArgs args;
  args.group = "cg";
  args.mq = kMq;
  args.queue_offset = 42;
  args.max_msg_nums = 32;
  args.sys_flag = buildPullSysFlag(true, true, false, false);
  args.commit_offset = 40;
  args.subscription = std::make_shared<remoting::SubscriptionData>(*sub);
  auto cmd = buildPullMessageRequest(args);
  EXPECT_EQ(cmd.code, rc::kPullMessage);
  EXPECT_EQ(field(cmd, "consumerGroup"), "cg");
  EXPECT_EQ(field(cmd, "topic"), "TopicTest");
  EXPECT_EQ(field(cmd, "queueId"), "3");
  EXPECT_EQ(field(cmd, "queueOffset"), "42");
  EXPECT_EQ(field(cmd, "maxMsgNums"), "32");
  EXPECT_EQ(field(cmd, "sysFlag"), "3");
  EXPECT_EQ(field(cmd, "commitOffset"), "40");
  EXPECT_EQ(field(cmd, "suspendTimeoutMillis"), "15000");
  EXPECT_EQ(field(cmd, "subVersion"), "1700000000123");
  EXPECT_EQ(field(cmd, "expressionType"), "TAG");
  EXPECT_EQ(field(cmd, "subscription"), "<absent>");  // the broker uses the heartbeat's subscription

  args.sys_flag |= pull_sys_flag::kSubscription;
  EXPECT_EQ(field(buildPullMessageRequest(args), "subscription"), args.subscription->sub_string);
}

TEST(ConsumerApiTest, PullStatusFromResponseCode) {
  struct Case {
    int32_t code;
    PullStatus status;
  } cases[] = {{rs::kPullNotFound, PullStatus::kNoNewMsg},
               {rs::kPullRetryImmediately, PullStatus::kNoMatchedMsg},
               {rs::kPullOffsetMoved, PullStatus::kOffsetIllegal}};
  for (const auto& c : cases) {
    auto r = parsePullMessageResponse(pullResponse(c.code), kMq, nullptr);
    ASSERT_TRUE(r.isOk()) << c.code;
    EXPECT_EQ(r->status, c.status);
    EXPECT_EQ(r->next_begin_offset, 13);
    EXPECT_EQ(r->min_offset, 0);
    EXPECT_EQ(r->max_offset, 20);
    EXPECT_EQ(r->suggest_which_broker_id, 1);
    EXPECT_TRUE(r->messages.empty());
  }
}

TEST(ConsumerApiTest, PullErrorCodesBecomeRemoteErrors) {
  auto resp = pullResponse(rs::kSubscriptionNotLatest);
  resp.remark = "the consumer's subscription not latest";
  auto r = parsePullMessageResponse(resp, kMq, nullptr);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kRemoteError);
  EXPECT_EQ(r.status().remoteCode(), rs::kSubscriptionNotLatest);
  EXPECT_NE(r.status().message().find("not latest"), std::string::npos);
}

TEST(ConsumerApiTest, PullResponseWithoutOffsetsIsCorrupt) {
  RemotingCommand resp;
  resp.code = rs::kPullNotFound;
  auto r = parsePullMessageResponse(resp, kMq, nullptr);
  ASSERT_FALSE(r.isOk());
  EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
}

TEST(ConsumerApiTest, FoundMessagesAreDecodedFilteredAndAnnotated) {
  std::string body = remoting::encodeStoredMessage(storedMessage(10, "TagA", "a")) +
                     remoting::encodeStoredMessage(storedMessage(11, "TagC", "c")) +
                     remoting::encodeStoredMessage(storedMessage(12, "", "none")) +
                     remoting::encodeStoredMessage(storedMessage(13, "TagB", "b"));
  auto sub = remoting::buildSubscription("TopicTest", "TagA || TagB", 1);
  ASSERT_TRUE(sub.isOk());
  auto r = parsePullMessageResponse(pullResponse(rs::kSuccess, body), kMq, &*sub);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->status, PullStatus::kFound);
  ASSERT_EQ(r->messages.size(), 2u);
  EXPECT_EQ(r->messages[0].body(), "a");
  EXPECT_EQ(r->messages[1].body(), "b");
  for (const auto& m : r->messages) {
    EXPECT_EQ(m.brokerName(), "broker-a");
    EXPECT_EQ(m.getProperty(property::kMinOffset), "0");
    EXPECT_EQ(m.getProperty(property::kMaxOffset), "20");
    EXPECT_EQ(m.queueId(), 3);
  }
  EXPECT_EQ(r->messages[0].msgId(), "UNIQ10");
  EXPECT_EQ(r->messages[0].queueOffset(), 10);
  EXPECT_EQ(r->messages[0].commitLogOffset(), 1010);

  // "*" keeps everything, and so does no subscription.
  auto all = remoting::buildSubscription("TopicTest", "*", 1);
  EXPECT_EQ(parsePullMessageResponse(pullResponse(rs::kSuccess, body), kMq, &*all)->messages.size(), 4u);
  EXPECT_EQ(parsePullMessageResponse(pullResponse(rs::kSuccess, body), kMq, nullptr)->messages.size(), 4u);
}

TEST(ConsumerApiTest, OffsetDeltaShiftsQueueOffsets) {
  auto resp = pullResponse(rs::kSuccess, remoting::encodeStoredMessage(storedMessage(5, "", "x")));
  resp.set("offsetDelta", int64_t{100});
  auto r = parsePullMessageResponse(resp, kMq, nullptr);
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->messages.at(0).queueOffset(), 105);
}

// A damaged body must not fail the pull: the consumer would retry the same offset for ever and the queue would
// stall. What decodes is delivered, a record that can be delimited but not decoded is skipped, and a record that
// cannot be delimited loses the rest of the batch (the Java client does the same); nextBeginOffset moves on.
TEST(ConsumerApiTest, DamagedRecordsInAPullBodyAreSkippedNotRetriedForever) {
  MessageExt bad_zlib = storedMessage(11, "", "not zlib at all");
  bad_zlib.setSysFlag(remoting::sys_flag::kCompressed);
  std::string truncated = remoting::encodeStoredMessage(storedMessage(13, "", "cut"));
  truncated.resize(truncated.size() - 3);
  const std::string body = remoting::encodeStoredMessage(storedMessage(10, "", "first")) +
                           remoting::encodeStoredMessage(bad_zlib) +
                           remoting::encodeStoredMessage(storedMessage(12, "", "third")) + truncated;
  auto r = parsePullMessageResponse(pullResponse(rs::kSuccess, body), kMq, nullptr);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->status, PullStatus::kFound);
  ASSERT_EQ(r->messages.size(), 2u);
  EXPECT_EQ(r->messages[0].body(), "first");
  EXPECT_EQ(r->messages[1].body(), "third");
  EXPECT_EQ(r->damaged_records, 2u);
  EXPECT_TRUE(r->rest_of_batch_lost);
  EXPECT_EQ(r->next_begin_offset, 13);

  // Only the undecodable record: nothing lost after it.
  auto only = parsePullMessageResponse(
      pullResponse(rs::kSuccess, remoting::encodeStoredMessage(bad_zlib) +
                                     remoting::encodeStoredMessage(storedMessage(12, "", "third"))),
      kMq, nullptr);
  ASSERT_TRUE(only.isOk());
  ASSERT_EQ(only->messages.size(), 1u);
  EXPECT_EQ(only->damaged_records, 1u);
  EXPECT_FALSE(only->rest_of_batch_lost);

  // A sound body reports no damage.
  auto sound = parsePullMessageResponse(
      pullResponse(rs::kSuccess, remoting::encodeStoredMessage(storedMessage(10, "", "x"))), kMq, nullptr);
  ASSERT_TRUE(sound.isOk());
  EXPECT_EQ(sound->damaged_records, 0u);
  EXPECT_FALSE(sound->rest_of_batch_lost);
}

TEST(ConsumerApiTest, QueryConsumerOffset) {
  auto cmd = buildQueryConsumerOffsetRequest("cg", kMq);
  EXPECT_EQ(cmd.code, rc::kQueryConsumerOffset);
  EXPECT_EQ(field(cmd, "consumerGroup"), "cg");
  EXPECT_EQ(field(cmd, "topic"), "TopicTest");
  EXPECT_EQ(field(cmd, "queueId"), "3");

  RemotingCommand ok;
  ok.set("offset", int64_t{77});
  EXPECT_EQ(*parseQueryConsumerOffsetResponse(ok), 77);

  RemotingCommand missing;
  missing.code = rs::kQueryNotFound;
  EXPECT_EQ(parseQueryConsumerOffsetResponse(missing).status().code(), StatusCode::kNotFound);

  RemotingCommand error;
  error.code = rs::kSystemError;
  EXPECT_EQ(parseQueryConsumerOffsetResponse(error).status().code(), StatusCode::kRemoteError);
}

TEST(ConsumerApiTest, UpdateConsumerOffsetRequest) {
  auto cmd = buildUpdateConsumerOffsetRequest("cg", kMq, 99);
  EXPECT_EQ(cmd.code, rc::kUpdateConsumerOffset);
  EXPECT_EQ(field(cmd, "consumerGroup"), "cg");
  EXPECT_EQ(field(cmd, "topic"), "TopicTest");
  EXPECT_EQ(field(cmd, "queueId"), "3");
  EXPECT_EQ(field(cmd, "commitOffset"), "99");
}

TEST(ConsumerApiTest, OffsetQueries) {
  auto max = buildGetMaxOffsetRequest(kMq);
  EXPECT_EQ(max.code, rc::kGetMaxOffset);
  EXPECT_EQ(field(max, "topic"), "TopicTest");
  EXPECT_EQ(field(max, "queueId"), "3");
  auto min = buildGetMinOffsetRequest(kMq);
  EXPECT_EQ(min.code, rc::kGetMinOffset);
  auto search = buildSearchOffsetRequest(kMq, 1700000000000);
  EXPECT_EQ(search.code, rc::kSearchOffsetByTimestamp);
  EXPECT_EQ(field(search, "timestamp"), "1700000000000");

  RemotingCommand ok;
  ok.set("offset", int64_t{12});
  EXPECT_EQ(*parseOffsetResponse(ok), 12);
  RemotingCommand bad;
  EXPECT_EQ(parseOffsetResponse(bad).status().code(), StatusCode::kCorrupt);
  bad.code = rs::kSystemError;
  EXPECT_EQ(parseOffsetResponse(bad).status().remoteCode(), rs::kSystemError);
}

TEST(ConsumerApiTest, ConsumerIdList) {
  auto cmd = buildGetConsumerIdListRequest("cg");
  EXPECT_EQ(cmd.code, rc::kGetConsumerListByGroup);
  EXPECT_EQ(field(cmd, "consumerGroup"), "cg");
  RemotingCommand ok;
  ok.body = R"({"consumerIdList":["127.0.0.1@b","127.0.0.1@a"]})";
  auto ids = parseGetConsumerIdListResponse(ok);
  ASSERT_TRUE(ids.isOk());
  EXPECT_EQ(*ids, (std::vector<std::string>{"127.0.0.1@b", "127.0.0.1@a"}));
  RemotingCommand none;
  none.code = rs::kSystemError;
  none.remark = "no consumer for this group, cg";
  EXPECT_EQ(parseGetConsumerIdListResponse(none).status().code(), StatusCode::kRemoteError);
}

TEST(ConsumerApiTest, SendMessageBackRequest) {
  MessageExt msg = storedMessage(7, "TagA", "x");
  msg.setMsgId("UNIQ7");
  auto cmd = buildConsumerSendMsgBackRequest(msg, "cg", 0, 16);
  EXPECT_EQ(cmd.code, rc::kConsumerSendMsgBack);
  EXPECT_EQ(field(cmd, "offset"), "1007");
  EXPECT_EQ(field(cmd, "group"), "cg");
  EXPECT_EQ(field(cmd, "delayLevel"), "0");
  EXPECT_EQ(field(cmd, "originMsgId"), "UNIQ7");
  EXPECT_EQ(field(cmd, "originTopic"), "TopicTest");
  EXPECT_EQ(field(cmd, "unitMode"), "false");
  EXPECT_EQ(field(cmd, "maxReconsumeTimes"), "16");
}

TEST(ConsumerApiTest, LockBatchBody) {
  std::set<MessageQueue> mqs{{"T", "b", 1}, {"T", "b", 0}};
  auto doc = nlohmann::json::parse(encodeLockBatchBody("cg", "127.0.0.1@x", mqs));
  EXPECT_EQ(doc["consumerGroup"], "cg");
  EXPECT_EQ(doc["clientId"], "127.0.0.1@x");
  EXPECT_EQ(doc["onlyThisBroker"], false);
  ASSERT_EQ(doc["mqSet"].size(), 2u);
  EXPECT_EQ(doc["mqSet"][0]["topic"], "T");
  EXPECT_EQ(doc["mqSet"][0]["brokerName"], "b");
  EXPECT_EQ(doc["mqSet"][0]["queueId"], 0);
}

TEST(ConsumerApiTest, LockBatchResponseBody) {
  auto locked = parseLockBatchResponseBody(
      R"({"lockOKMQSet":[{"brokerName":"b","queueId":2,"topic":"T"},{"brokerName":"b","queueId":0,"topic":"T"}]})");
  ASSERT_TRUE(locked.isOk());
  EXPECT_EQ(*locked, (std::set<MessageQueue>{{"T", "b", 0}, {"T", "b", 2}}));
  EXPECT_TRUE(parseLockBatchResponseBody(R"({"lockOKMQSet":[]})")->empty());
  EXPECT_TRUE(parseLockBatchResponseBody("")->empty());
  EXPECT_EQ(parseLockBatchResponseBody("[1,2").status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(parseLockBatchResponseBody(R"({"lockOKMQSet":[{"topic":"T"}]})").status().code(),
            StatusCode::kCorrupt);
}

TEST(ConsumerApiTest, ResponseErrorCarriesCodeAndRemark) {
  RemotingCommand r;
  r.code = rs::kSystemBusy;
  r.remark = "[REJECTREQUEST]system busy";
  Status st = responseError(r, "PULL_MESSAGE of topic T");
  EXPECT_EQ(st.code(), StatusCode::kRemoteError);
  EXPECT_EQ(st.remoteCode(), rs::kSystemBusy);
  EXPECT_NE(st.message().find("REJECTREQUEST"), std::string::npos);
  EXPECT_NE(st.message().find("PULL_MESSAGE of topic T"), std::string::npos);
}

TEST(ConsumerApiTest, AclRefusalsAreAccessDeniedNamingTheOperation) {
  RemotingCommand v5;  // Apache 5.x ACL 2.0
  v5.code = rs::kNoPermission;
  v5.remark = "User:u has no permission to access Topic:T from 127.0.0.1, no matched policies.";
  Status st = responseError(v5, "PULL_MESSAGE of topic T");
  EXPECT_EQ(st.code(), StatusCode::kAccessDenied);
  EXPECT_EQ(st.remoteCode(), rs::kNoPermission);
  EXPECT_NE(st.message().find("PULL_MESSAGE of topic T"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("no matched policies"), std::string::npos) << st.message();

  RemotingCommand v4;  // Apache 4.9 plain ACL: the hook's AclException answered as SYSTEM_ERROR
  v4.code = rs::kSystemError;
  v4.remark = "org.apache.rocketmq.acl.common.AclException: No default permission for topic:T, "
              "org.apache.rocketmq.acl.plain.PlainPermissionManager.checkPerm(PlainPermissionManager.java:605)";
  EXPECT_EQ(responseError(v4, "").code(), StatusCode::kAccessDenied);
}

}  // namespace
}  // namespace rocketrpc::client
