// rocketrpc-broker ACL: the plain_acl.yml parser, remote-address patterns, the permission table and the
// access decision (broker/acl/access_check.h), and the reply registry.
#include <gtest/gtest.h>

#include <string>

#include "broker/acl/access_check.h"
#include "broker/acl/acl_config.h"
#include "broker/acl/reply_registry.h"
#include "remoting/acl_signer.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/heartbeat_data.h"
#include "remoting/protocol/message_codec.h"

namespace rocketrpc::broker::acl {
namespace {

namespace rc = remoting::request_code;
using remoting::RemotingCommand;

constexpr const char* kFile = R"(
globalWhiteRemoteAddresses:
  - 10.10.103.*
  - 192.168.0.{1,2}

accounts:
  - accessKey: RocketMQ
    secretKey: 12345678
    whiteRemoteAddress:
    admin: false
    defaultTopicPerm: DENY
    defaultGroupPerm: SUB
    topicPerms:
      - topicA=DENY
      - topicB=PUB|SUB
      - topicC=SUB
    groupPerms:
      - groupA=DENY
      - groupB=PUB|SUB
      - groupC=SUB
  - accessKey: rocketmq2
    secretKey: 87654321
    whiteRemoteAddress: 192.168.1.*
    admin: true
)";

AclConfig parsed() {
  auto c = parseAclConfig(kFile);
  EXPECT_TRUE(c.isOk()) << c.status().toString();
  return c.isOk() ? *c : AclConfig{};
}

RemotingCommand signedBy(RemotingCommand cmd, const std::string& ak, const std::string& sk) {
  remoting::aclSignRequest(cmd, remoting::AclCredentials{ak, sk, ""});
  return cmd;
}

RemotingCommand sendV2(const std::string& topic, const std::string& properties = {}) {
  auto cmd = RemotingCommand::request(rc::kSendMessageV2);
  cmd.set("a", "pg");
  cmd.set("b", topic);
  cmd.set("e", int64_t{0});
  cmd.set("i", properties);
  cmd.body = "hello";
  return cmd;
}

TEST(AclPermTest, ParsesApacheSpellingsAndDeniesEverythingElse) {
  EXPECT_EQ(parsePerm("PUB"), perm::kPub);
  EXPECT_EQ(parsePerm(" SUB "), perm::kSub);
  EXPECT_EQ(parsePerm("PUB|SUB"), perm::kPub | perm::kSub);
  EXPECT_EQ(parsePerm("SUB|PUB"), perm::kPub | perm::kSub);
  EXPECT_EQ(parsePerm("DENY"), perm::kDeny);
  EXPECT_EQ(parsePerm("pub"), perm::kDeny);
  EXPECT_EQ(parsePerm(""), perm::kDeny);
  EXPECT_TRUE(permits(perm::kPub, perm::kPub | perm::kSub));
  EXPECT_FALSE(permits(perm::kPub, perm::kSub));
  EXPECT_FALSE(permits(perm::kSub, perm::kSub | perm::kDeny));
  EXPECT_TRUE(permits(perm::kAny, perm::kSub));
  EXPECT_FALSE(permits(perm::kAny, perm::kDeny));
}

TEST(AclAddressPatternTest, MatchesApacheForms) {
  auto check = [](const char* pattern, const char* host) {
    auto p = AddressPattern::parse(pattern);
    EXPECT_TRUE(p.isOk()) << pattern << ": " << p.status().toString();
    return p.isOk() && p->matches(host);
  };
  EXPECT_TRUE(check("*", "1.2.3.4"));
  EXPECT_TRUE(check("*", "::1"));
  EXPECT_TRUE(check("*.*.*.*", "1.2.3.4"));
  EXPECT_FALSE(check("", "1.2.3.4"));
  EXPECT_TRUE(check("192.168.0.{1,2}", "192.168.0.2"));
  EXPECT_FALSE(check("192.168.0.{1,2}", "192.168.0.3"));
  EXPECT_TRUE(check("192.168.0.1,192.168.0.7", "192.168.0.7"));
  EXPECT_TRUE(check("192.168.1.1-100", "192.168.1.100"));
  EXPECT_FALSE(check("192.168.1.1-100", "192.168.1.101"));
  EXPECT_FALSE(check("192.168.1.1-100", "192.168.2.50"));
  EXPECT_TRUE(check("10.10.*.*", "10.10.7.200"));
  EXPECT_FALSE(check("10.10.*.*", "10.11.7.200"));
  EXPECT_TRUE(check("10.10.1-5.*", "10.10.5.1"));
  EXPECT_FALSE(check("10.10.1-5.*", "10.10.6.1"));
  EXPECT_TRUE(check("127.0.0.1", "127.0.0.1"));
  EXPECT_FALSE(check("127.0.0.1", "127.0.0.2"));
  EXPECT_TRUE(check("::1", "0:0:0:0:0:0:0:1"));
  EXPECT_FALSE(check("127.0.0.1", "not-an-address"));
}

TEST(AclAddressPatternTest, RejectsMalformedPatterns) {
  for (const char* bad : {"300.1.1.1", "1.2.3", "192.168.1.100-1", "192.168.1.-5", "10.*.1.*", "1.2.3.{a,b}",
                          "1.2.{3,4}.5}", "fe80::*", "hello"}) {
    EXPECT_FALSE(AddressPattern::parse(bad).isOk()) << bad;
  }
}

TEST(AclConfigTest, ParsesApacheSampleFile) {
  AclConfig c = parsed();
  ASSERT_EQ(c.global_white_remote_addresses.size(), 2u);
  ASSERT_EQ(c.accounts.size(), 2u);
  const AclAccount* a = c.find("RocketMQ");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->secret_key, "12345678");
  EXPECT_FALSE(a->admin);
  EXPECT_EQ(a->default_topic_perm, perm::kDeny);
  EXPECT_EQ(a->default_group_perm, perm::kSub);
  EXPECT_EQ(a->resource_perms.at("topicB"), perm::kPub | perm::kSub);
  EXPECT_EQ(a->resource_perms.at("%RETRY%groupA"), perm::kDeny);  // groups are kept under their retry topic
  const AclAccount* b = c.find("rocketmq2");
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(b->admin);
  EXPECT_TRUE(b->white_remote_address.matches("192.168.1.9"));
  EXPECT_EQ(b->default_topic_perm, perm::kDeny);  // absent -> DENY, as in Apache
}

TEST(AclConfigTest, BadFilesAreRefusedWithoutQuotingSecrets) {
  struct Case {
    const char* yaml;
    const char* says;
  };
  for (const Case& c : {
           Case{"accounts: [ {accessKey: short1, secretKey: supersecret9} ]", "longer than 6"},
           Case{"accounts: [ {accessKey: longenough, secretKey: tiny} ]", "secretKey must be longer"},
           Case{"accounts: [ {accessKey: longenough, secretKey: supersecret9, topicPerms: [nope]} ]",
                "not name=PUB"},
           Case{"accounts: [ {accessKey: longenough, secretKey: supersecret9, whiteRemoteAddress: 1.2.3} ]",
                "bad remote address"},
           Case{"accounts:\n  - {accessKey: longenough, secretKey: supersecret9}\n"
                "  - {accessKey: longenough, secretKey: supersecret9}\n",
                "duplicate"},
           Case{"accounts: [ {accessKey: longenough, secretKey: supersecret9, admin: maybe} ]", "admin"},
           Case{"- just\n- a list\n", "top level"},
           Case{"accounts: {a: b}", "must be a list"},
           Case{"accounts: [ {accessKey: longenough, secretKey: [supersecret9]} ]", "secretKey"},
           Case{"accounts: [\n  {accessKey: longenough, secretKey: supersecret9\n", "not valid YAML"},
       }) {
    auto r = parseAclConfig(c.yaml);
    ASSERT_FALSE(r.isOk()) << c.yaml;
    EXPECT_NE(r.status().message().find(c.says), std::string::npos) << r.status().toString();
    EXPECT_EQ(r.status().message().find("supersecret9"), std::string::npos) << r.status().toString();
  }
  EXPECT_TRUE(parseAclConfig("").isOk());
  EXPECT_TRUE(parseAclConfig("# nothing\n").isOk());
}

TEST(AclRequirementsTest, PermissionTableFollowsApache) {
  auto v2 = sendV2("TopicX");
  auto r = requirementsOf(v2);
  ASSERT_EQ(r.resources.size(), 1u);
  EXPECT_EQ(r.resources[0], (std::pair<std::string, uint8_t>{"TopicX", perm::kPub}));
  EXPECT_FALSE(r.admin);

  auto retry = sendV2("%RETRY%cg");
  r = requirementsOf(retry);
  EXPECT_EQ(r.resources[0], (std::pair<std::string, uint8_t>{"%RETRY%cg", perm::kSub}));

  auto pull = RemotingCommand::request(rc::kPullMessage);
  pull.set("topic", "T");
  pull.set("consumerGroup", "G");
  r = requirementsOf(pull);
  ASSERT_EQ(r.resources.size(), 2u);
  EXPECT_EQ(r.resources[0], (std::pair<std::string, uint8_t>{"T", perm::kSub}));
  EXPECT_EQ(r.resources[1], (std::pair<std::string, uint8_t>{"%RETRY%G", perm::kSub}));

  auto offset = RemotingCommand::request(rc::kUpdateConsumerOffset);
  offset.set("topic", "T");
  offset.set("consumerGroup", "%SCHEDULE_DELAY%");
  r = requirementsOf(offset);
  EXPECT_TRUE(r.admin);  // the broker's delayed-delivery progress

  remoting::HeartbeatData hb;
  hb.client_id = "c1";
  remoting::ConsumerData cd;
  cd.group_name = "G1";
  cd.subscriptions.push_back(*remoting::buildSubscription("T1", "*", 1));
  cd.subscriptions.push_back(*remoting::buildSubscription("T2", "*", 1));
  hb.consumers.push_back(cd);
  auto heartbeat = RemotingCommand::request(rc::kHeartBeat);
  heartbeat.body = remoting::encodeHeartbeat(hb);
  r = requirementsOf(heartbeat);
  ASSERT_EQ(r.resources.size(), 3u);
  EXPECT_EQ(r.resources[0].first, "%RETRY%G1");
  EXPECT_EQ(r.resources[2].first, "T2");

  heartbeat.body = "{not json";
  EXPECT_FALSE(requirementsOf(heartbeat).malformed.empty());

  for (int32_t code : {17, 25, 215, 200, 207, 103, 104, 216, 21, 201}) EXPECT_TRUE(isAdminCode(code)) << code;
  for (int32_t code : {10, 11, 14, 15, 34, 105, 106, 206}) EXPECT_FALSE(isAdminCode(code)) << code;
}

TEST(AclCheckTest, DecidesAsApachePlainPermissionManager) {
  AclConfig c = parsed();
  ReplyRegistry replies(100, 60000);
  auto check = [&](const RemotingCommand& cmd, const char* host = "127.0.0.1") {
    return checkAccess(c, cmd, host, &replies, 1000);
  };
  // Unsigned from a plain address: refused, naming the code.
  auto v = check(sendV2("topicB"));
  EXPECT_FALSE(v.allowed);
  EXPECT_NE(v.reason.find("not signed"), std::string::npos) << v.reason;
  // Unsigned from a globally white-listed address: allowed.
  EXPECT_TRUE(check(sendV2("topicB"), "10.10.103.7").allowed);
  EXPECT_TRUE(check(sendV2("topicB"), "192.168.0.2").allowed);
  // Unknown key, wrong secret.
  v = check(signedBy(sendV2("topicB"), "nobody12", "12345678"));
  EXPECT_NE(v.reason.find("unknown AccessKey nobody12"), std::string::npos) << v.reason;
  v = check(signedBy(sendV2("topicB"), "RocketMQ", "wrongsecret"));
  EXPECT_NE(v.reason.find("signature"), std::string::npos) << v.reason;
  EXPECT_EQ(v.reason.find("12345678"), std::string::npos);
  // A signed request altered in transit.
  auto tampered = signedBy(sendV2("topicB"), "RocketMQ", "12345678");
  tampered.set("b", "topicC");
  EXPECT_FALSE(check(tampered).allowed);
  // Permissions.
  EXPECT_TRUE(check(signedBy(sendV2("topicB"), "RocketMQ", "12345678")).allowed);
  v = check(signedBy(sendV2("topicA"), "RocketMQ", "12345678"));
  EXPECT_EQ(v.reason, "No permission: account RocketMQ may not PUB to topic topicA (has DENY)");
  v = check(signedBy(sendV2("topicC"), "RocketMQ", "12345678"));
  EXPECT_NE(v.reason.find("may not PUB to topic topicC"), std::string::npos) << v.reason;
  v = check(signedBy(sendV2("other"), "RocketMQ", "12345678"));
  EXPECT_NE(v.reason.find("by default"), std::string::npos) << v.reason;
  auto pull = RemotingCommand::request(rc::kPullMessage);
  pull.set("topic", "topicC");
  pull.set("consumerGroup", "anyGroup");  // default group perm SUB
  EXPECT_TRUE(check(signedBy(pull, "RocketMQ", "12345678")).allowed);
  pull.set("consumerGroup", "groupA");
  v = check(signedBy(pull, "RocketMQ", "12345678"));
  EXPECT_NE(v.reason.find("may not SUB to group groupA"), std::string::npos) << v.reason;
  // Admin codes.
  auto create = RemotingCommand::request(rc::kUpdateAndCreateTopic);
  create.set("topic", "newTopic");
  v = check(signedBy(create, "RocketMQ", "12345678"));
  EXPECT_NE(v.reason.find("is not admin; UPDATE_AND_CREATE_TOPIC (17) needs admin"), std::string::npos) << v.reason;
  EXPECT_TRUE(check(signedBy(create, "rocketmq2", "87654321")).allowed);
  // The admin account's white address: no signature needed (Apache).
  auto unsigned_admin = create;
  unsigned_admin.set("AccessKey", "rocketmq2");
  EXPECT_TRUE(check(unsigned_admin, "192.168.1.20").allowed);
  EXPECT_FALSE(check(unsigned_admin, "192.168.2.20").allowed);
  // Client-supplied names are shown tamed in remarks (they are logged too).
  v = check(signedBy(sendV2("x"), std::string("evil\nFAKE LOG LINE") + std::string(300, 'k'), "12345678"));
  EXPECT_EQ(v.reason.find('\n'), std::string::npos) << v.reason;
  EXPECT_LT(v.reason.size(), 200u);
  // Unknown codes need only a valid signature.
  auto route = RemotingCommand::request(rc::kGetRouteInfoByTopic);
  route.set("topic", "topicA");
  EXPECT_TRUE(check(signedBy(route, "RocketMQ", "12345678")).allowed);
  EXPECT_FALSE(check(route).allowed);
}

TEST(AclCheckTest, RepliesNeedAKnownRequestAndSubOnItsTopic) {
  AclConfig c = parsed();
  ReplyRegistry replies(100, 60000);
  const std::string request_props = remoting::encodeProperties(
      {{"CORRELATION_ID", "corr-1"}, {"REPLY_TO_CLIENT", "requester@1"}, {"CLUSTER", "DefaultCluster"}});
  auto request = sendV2("topicB", request_props);
  auto tracked = trackedRequestOf(request);
  ASSERT_TRUE(tracked.has_value());
  EXPECT_EQ(tracked->topic, "topicB");
  EXPECT_FALSE(trackedRequestOf(sendV2("topicB", remoting::encodeProperties({{"KEYS", "k"}}))).has_value());

  auto reply = [](const std::string& corr, const std::string& to) {
    auto cmd = RemotingCommand::request(rc::kSendReplyMessageV2);
    cmd.set("a", "rpg");
    cmd.set("b", "DefaultCluster_REPLY_TOPIC");
    cmd.set("e", int64_t{0});
    cmd.set("i", remoting::encodeProperties(
                     {{"CORRELATION_ID", corr}, {"REPLY_TO_CLIENT", to}, {"MSG_TYPE", "reply"}}));
    return cmd;
  };
  // Before the request was stored: refused.
  auto v = checkAccess(c, signedBy(reply("corr-1", "requester@1"), "RocketMQ", "12345678"), "127.0.0.1", &replies, 10);
  EXPECT_NE(v.reason.find("matches no request"), std::string::npos) << v.reason;
  replies.noteRequest(tracked->correlation_id, tracked->topic, tracked->reply_to_client, 10);
  EXPECT_TRUE(checkAccess(c, signedBy(reply("corr-1", "requester@1"), "RocketMQ", "12345678"), "127.0.0.1",
                          &replies, 20)
                  .allowed);
  // Another requester named: refused.
  EXPECT_FALSE(checkAccess(c, signedBy(reply("corr-1", "other@2"), "RocketMQ", "12345678"), "127.0.0.1", &replies, 20)
                   .allowed);
  // A request on a topic the replier may only... not SUB.
  replies.noteRequest("corr-2", "topicA", "requester@1", 10);
  v = checkAccess(c, signedBy(reply("corr-2", "requester@1"), "RocketMQ", "12345678"), "127.0.0.1", &replies, 20);
  EXPECT_NE(v.reason.find("may not SUB to topic topicA"), std::string::npos) << v.reason;
  // A second request cannot take over an id.
  replies.noteRequest("corr-2", "topicB", "requester@1", 11);
  EXPECT_FALSE(checkAccess(c, signedBy(reply("corr-2", "requester@1"), "RocketMQ", "12345678"), "127.0.0.1",
                           &replies, 20)
                   .allowed);
  // Without the registry (aclReplyCheckEnable=false) a signed reply passes, as in Apache.
  EXPECT_TRUE(checkAccess(c, signedBy(reply("nope", "x"), "RocketMQ", "12345678"), "127.0.0.1", nullptr, 20).allowed);
}

TEST(AclReplyRegistryTest, BoundedAndExpiring) {
  ReplyRegistry r(2, 100);
  r.noteRequest("a", "T", "c", 0);
  r.noteRequest("b", "T", "c", 10);
  r.noteRequest("c", "T", "c", 20);  // evicts "a"
  EXPECT_EQ(r.size(), 2u);
  EXPECT_FALSE(r.find("a", 30, false).has_value());
  EXPECT_TRUE(r.find("b", 30, true).has_value());  // refreshed to 130
  EXPECT_FALSE(r.find("c", 125, false).has_value());  // expired at 120
  EXPECT_TRUE(r.find("b", 125, false).has_value());
  EXPECT_FALSE(r.find("b", 131, false).has_value());
}

TEST(AclHostTest, StripsThePort) {
  EXPECT_EQ(hostOf("127.0.0.1:1234"), "127.0.0.1");
  EXPECT_EQ(hostOf("::1:1234"), "::1");
  EXPECT_EQ(hostOf("nohost"), "nohost");
}

}  // namespace
}  // namespace rocketrpc::broker::acl
