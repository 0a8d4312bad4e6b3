// rocketrpc-broker with aclEnable=true (in-process, 127.0.0.1:0, temp store, account file at the default
// <store>/config/plain_acl.yml): every attack of issue #9 ("Why") made by a client without credentials (or with
// the wrong ones) is refused with NO_PERMISSION and leaves the state unchanged; a forged reply from a
// publish-only account is refused while the real reply reaches the requester; admin, white-listed addresses and
// file reloads work. Requests are signed with remoting::aclSignRequest (Apache's AclClientRPCHook algorithm).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/acl/acl_guard.h"
#include "broker/broker_config.h"
#include "broker/broker_server.h"
#include "namesrv/topic_config.h"
#include "remoting/acl_signer.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/heartbeat_data.h"
#include "remoting/protocol/message_codec.h"
#include "remoting/transport.h"
#include "support/test_broker.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using remoting::AclCredentials;
using remoting::RemotingCommand;
namespace rc = remoting::request_code;
namespace resp = remoting::response_code;
using testing::uniqueName;
using testing::waitUntil;

using remoting::request_code::kUpdateAndCreateSubscriptionGroup;
using remoting::request_code::kGetAllSubscriptionGroupConfig;

const AclCredentials kAdmin{"adminKey1", "adminSecret1", ""};
const AclCredentials kRequester{"requester1", "requesterSecret", ""};  // PUB on rpc_req, SUB on the reply topic
const AclCredentials kServer{"rpcServer1", "serverSecret1", ""};       // SUB on rpc_req, PUB on the reply topic
const AclCredentials kPublisher{"publisher1", "publisherSecret", ""};  // PUB on rpc_req and the reply topic only
const AclCredentials kNewcomer{"newcomer1", "newcomerSecret", ""};     // only in a reloaded file

std::string accountsYaml(const std::string& extra = {}, const std::string& white = {}) {
  std::string y = "globalWhiteRemoteAddresses:\n";
  if (!white.empty()) y += "  - " + white + "\n";
  y += R"(accounts:
  - accessKey: adminKey1
    secretKey: adminSecret1
    admin: true
  - accessKey: requester1
    secretKey: requesterSecret
    defaultTopicPerm: DENY
    defaultGroupPerm: SUB
    topicPerms:
      - rpc_req=PUB
      - DefaultCluster_REPLY_TOPIC=SUB
      - denied_topic=DENY
  - accessKey: rpcServer1
    secretKey: serverSecret1
    defaultTopicPerm: DENY
    defaultGroupPerm: SUB
    topicPerms:
      - rpc_req=SUB
      - DefaultCluster_REPLY_TOPIC=PUB
  - accessKey: publisher1
    secretKey: publisherSecret
    defaultTopicPerm: DENY
    defaultGroupPerm: SUB
    topicPerms:
      - rpc_req=PUB
      - DefaultCluster_REPLY_TOPIC=PUB
)";
  return y + extra;
}

// Writes `text` to `path` through a rename, so the reload sees a new inode even within one mtime tick.
void writeFile(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
  }
  std::filesystem::rename(tmp, path);
}

class BrokerAclTest : public testing::OwnBrokerTest {
 protected:
  BrokerAclTest() : OwnBrokerTest("broker_acl") {}

  void configure(broker::BrokerConfig& config) override {
    config.acl_enable = true;
    config.acl_reload_interval_millis = 100;
    writeFile(aclPath(), accountsYaml());  // aclFile left empty: the default path
  }
  std::filesystem::path aclPath() const { return dir_ / "config" / "plain_acl.yml"; }

  // Sends `req` signed with `creds` (unsigned when creds is null) over a client of that identity.
  RemotingCommand call(RemotingCommand req, const AclCredentials* creds) {
    if (creds != nullptr) remoting::aclSignRequest(req, *creds);
    auto r = clientFor(creds).invokeSync(addr_, std::move(req), 5s);
    EXPECT_TRUE(r.isOk()) << r.status().toString();
    return r.isOk() ? *r : RemotingCommand{};
  }
  remoting::RemotingClient& clientFor(const AclCredentials* creds) {
    std::lock_guard<std::mutex> lock(clients_mu_);
    const std::string key = creds ? creds->access_key + "/" + creds->secret_key : "";
    for (auto& [k, c] : clients_) {
      if (k == key) return *c;
    }
    remoting::TransportOptions to;
    if (creds != nullptr) to.credentials = *creds;
    auto c = std::make_unique<remoting::RemotingClient>(to);
    c->start();
    clients_.emplace_back(key, std::move(c));
    return *clients_.back().second;
  }
  void TearDown() override {
    for (auto& [k, c] : clients_) c->shutdown();
    OwnBrokerTest::TearDown();
  }

  RemotingCommand createTopic(const std::string& topic, const AclCredentials* creds) {
    auto req = RemotingCommand::request(rc::kUpdateAndCreateTopic);
    req.set("topic", topic);
    req.set("defaultTopic", "TBW102");
    req.set("readQueueNums", int64_t{4});
    req.set("writeQueueNums", int64_t{4});
    req.set("perm", int64_t{6});
    req.set("topicFilterType", "SINGLE_TAG");
    return call(std::move(req), creds);
  }
  nlohmann::json allTopics() {
    auto r = call(RemotingCommand::request(rc::kGetAllTopicConfig), &kAdmin);
    EXPECT_EQ(r.code, resp::kSuccess) << r.remarkOrEmpty();
    return nlohmann::json::parse(r.body, nullptr, false)["topicConfigTable"];
  }
  // The name server's route of `topic` as it answers (code and body).
  std::string route(const std::string& topic) {
    auto req = RemotingCommand::request(rc::kGetRouteInfoByTopic);
    req.set("topic", topic);
    auto r = call(std::move(req), &kAdmin);
    return std::to_string(r.code) + " " + r.body;
  }
  RemotingCommand sendV2(const std::string& topic, const std::string& body, const remoting::Properties& props,
                         const AclCredentials* creds, int32_t code = rc::kSendMessageV2) {
    auto req = RemotingCommand::request(code);
    req.set("a", "acl_test_pg");
    req.set("b", topic);
    req.set("c", "TBW102");
    req.set("d", int64_t{4});
    req.set("e", int64_t{0});
    req.set("f", int64_t{0});
    req.set("g", int64_t{1});
    req.set("h", int64_t{0});
    req.set("i", remoting::encodeProperties(props));
    req.set("j", int64_t{0});
    req.setBool("k", false);
    req.body = body;
    return call(std::move(req), creds);
  }
  int64_t maxOffset(const std::string& topic, int queue) {
    auto req = RemotingCommand::request(rc::kGetMaxOffset);
    req.set("topic", topic);
    req.set("queueId", static_cast<int64_t>(queue));
    return call(std::move(req), &kAdmin).getInt("offset").value_or(-1);
  }
  void expectRefused(const RemotingCommand& r, const std::string& says) {
    EXPECT_EQ(r.code, resp::kNoPermission) << r.remarkOrEmpty();
    EXPECT_NE(r.remarkOrEmpty().find(says), std::string::npos) << r.remarkOrEmpty();
  }

  std::mutex clients_mu_;
  std::vector<std::pair<std::string, std::unique_ptr<remoting::RemotingClient>>> clients_;
};

const AclCredentials kWrongSecret{"adminKey1", "notTheSecret", ""};
const AclCredentials kUnknown{"strangerKey", "strangerSecret", ""};

TEST_F(BrokerAclTest, UnsignedOrUnknownClientCannotCreateTopics) {
  const std::string topic = uniqueName("acl_created");
  expectRefused(createTopic(topic, nullptr), "not signed");
  expectRefused(createTopic(topic, &kUnknown), "unknown AccessKey strangerKey");
  expectRefused(createTopic(topic, &kRequester), "is not admin");
  EXPECT_FALSE(allTopics().contains(topic));
  EXPECT_EQ(route(topic).substr(0, 3), std::to_string(resp::kTopicNotExist) + " ");
  EXPECT_NE(server_->metricsText().find("rocketrpc_broker_acl_denied_total 3\n"), std::string::npos)
      << server_->metricsText();
}

TEST_F(BrokerAclTest, UnsignedClientCannotDeleteTopics) {
  const std::string topic = uniqueName("acl_kept");
  ASSERT_EQ(createTopic(topic, &kAdmin).code, resp::kSuccess);
  ASSERT_TRUE(waitUntil([&] { return route(topic).starts_with("0 "); }, 10s));
  const std::string before = route(topic);

  auto in_broker = RemotingCommand::request(rc::kDeleteTopicInBroker);
  in_broker.set("topic", topic);
  expectRefused(call(in_broker, nullptr), "DELETE_TOPIC_IN_BROKER (215)");
  expectRefused(call(in_broker, &kUnknown), "unknown AccessKey");
  auto in_namesrv = RemotingCommand::request(rc::kDeleteTopicInNamesrv);
  in_namesrv.set("topic", topic);
  expectRefused(call(in_namesrv, nullptr), "DELETE_TOPIC_IN_NAMESRV (216)");
  expectRefused(call(in_namesrv, &kRequester), "is not admin");

  EXPECT_TRUE(allTopics().contains(topic));
  EXPECT_EQ(route(topic), before);
}

TEST_F(BrokerAclTest, UnsignedClientCannotDisableASubscriptionGroup) {
  const std::string group = uniqueName("acl_group");
  auto create = RemotingCommand::request(kUpdateAndCreateSubscriptionGroup);
  create.body = nlohmann::json{{"groupName", group}, {"consumeEnable", true}, {"retryMaxTimes", 5}}.dump();
  ASSERT_EQ(call(create, &kAdmin).code, resp::kSuccess);
  auto groups = [&] {
    auto r = call(RemotingCommand::request(kGetAllSubscriptionGroupConfig), &kAdmin);
    return nlohmann::json::parse(r.body, nullptr, false)["subscriptionGroupTable"][group];
  };
  const auto before = groups();
  ASSERT_TRUE(before["consumeEnable"].get<bool>());

  auto disable = RemotingCommand::request(kUpdateAndCreateSubscriptionGroup);
  disable.body = nlohmann::json{{"groupName", group}, {"consumeEnable", false}, {"retryMaxTimes", 5}}.dump();
  expectRefused(call(disable, nullptr), "UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200)");
  expectRefused(call(disable, &kRequester), "is not admin");
  EXPECT_EQ(groups(), before);
}

TEST_F(BrokerAclTest, UnsignedClientCannotRegisterAFakeBroker) {
  const std::string topic = uniqueName("acl_routed");
  ASSERT_EQ(createTopic(topic, &kAdmin).code, resp::kSuccess);
  ASSERT_TRUE(waitUntil([&] { return route(topic).starts_with("0 "); }, 10s));
  const std::string before = route(topic);

  namesrv::RegisterBrokerBody body;
  namesrv::TopicConfig tc;
  tc.topic_name = topic;
  body.topic_config_wrapper.topic_config_table[topic] = tc;
  body.topic_config_wrapper.data_version.next(1);
  const std::string encoded = namesrv::encodeRegisterBrokerBody(body);
  auto fake = RemotingCommand::request(rc::kRegisterBroker);
  fake.set("brokerName", "evil-broker");
  fake.set("brokerAddr", "127.0.0.1:1");
  fake.set("clusterName", "DefaultCluster");
  fake.set("haServerAddr", "127.0.0.1:1");
  fake.set("brokerId", int64_t{0});
  fake.setBool("compressed", false);
  fake.set("bodyCrc32", static_cast<int64_t>(remoting::bodyCrc(encoded)));
  fake.body = encoded;
  expectRefused(call(fake, nullptr), "REGISTER_BROKER (103)");
  expectRefused(call(fake, &kPublisher), "is not admin");

  EXPECT_EQ(route(topic), before);
  EXPECT_EQ(route(topic).find("evil-broker"), std::string::npos);
  auto cluster = call(RemotingCommand::request(rc::kGetBrokerClusterInfo), &kAdmin);
  EXPECT_EQ(cluster.body.find("evil-broker"), std::string::npos);
}

TEST_F(BrokerAclTest, UnsignedClientCannotUnregisterTheRealBroker) {
  const std::string topic = uniqueName("acl_stays");
  ASSERT_EQ(createTopic(topic, &kAdmin).code, resp::kSuccess);
  ASSERT_TRUE(waitUntil([&] { return route(topic).starts_with("0 "); }, 10s));
  const std::string before = route(topic);

  auto unregister = RemotingCommand::request(rc::kUnregisterBroker);
  unregister.set("brokerName", config_.broker_name);
  unregister.set("brokerAddr", addr_);
  unregister.set("clusterName", config_.broker_cluster_name);
  unregister.set("brokerId", int64_t{0});
  expectRefused(call(unregister, nullptr), "UNREGISTER_BROKER (104)");
  expectRefused(call(unregister, &kWrongSecret), "signature check failed for AccessKey adminKey1");
  EXPECT_EQ(route(topic), before);
}

TEST_F(BrokerAclTest, UnsignedClientCannotRewindScheduleOffsets) {
  const std::string topic = uniqueName("acl_delayed");
  ASSERT_EQ(createTopic(topic, &kAdmin).code, resp::kSuccess);
  // One message delayed by level 1 (1 s), sent by the admin; wait until it was delivered.
  ASSERT_EQ(sendV2(topic, "late", {{"DELAY", "1"}}, &kAdmin).code, resp::kSuccess);
  ASSERT_TRUE(waitUntil([&] { return maxOffset(topic, 0) == 1; }, 20s));
  auto query = RemotingCommand::request(rc::kQueryConsumerOffset);
  query.set("consumerGroup", "%SCHEDULE_DELAY%");
  query.set("topic", "SCHEDULE_TOPIC_XXXX");
  query.set("queueId", int64_t{0});
  auto progress = [&] { return call(query, &kAdmin).getInt("offset").value_or(-1); };
  ASSERT_TRUE(waitUntil([&] { return progress() == 1; }, 10s));

  auto rewind = RemotingCommand::request(rc::kUpdateConsumerOffset);
  rewind.set("consumerGroup", "%SCHEDULE_DELAY%");
  rewind.set("topic", "SCHEDULE_TOPIC_XXXX");
  rewind.set("queueId", int64_t{0});
  rewind.set("commitOffset", int64_t{0});
  expectRefused(call(rewind, nullptr), "UPDATE_CONSUMER_OFFSET (15)");
  // Even an account allowed to SUB every group may not: the group is the broker's own.
  expectRefused(call(rewind, &kRequester), "is not admin");
  expectRefused(call(query, nullptr), "QUERY_CONSUMER_OFFSET (14)");

  EXPECT_EQ(progress(), 1);
  std::this_thread::sleep_for(1500ms);  // a rewind would have re-delivered by now (level 1 = 1 s)
  EXPECT_EQ(maxOffset(topic, 0), 1);
}

TEST_F(BrokerAclTest, WrongSecretIsRefused) {
  const std::string topic = uniqueName("acl_wrong_secret");
  auto r = sendV2(topic, "x", {}, &kWrongSecret);
  expectRefused(r, "signature check failed");
  EXPECT_EQ(r.remarkOrEmpty().find("notTheSecret"), std::string::npos);
  EXPECT_EQ(r.remarkOrEmpty().find("adminSecret1"), std::string::npos);
  EXPECT_FALSE(allTopics().contains(topic));
}

TEST_F(BrokerAclTest, AccountWithoutPubIsRefusedNamingTheTopic) {
  ASSERT_EQ(createTopic("denied_topic", &kAdmin).code, resp::kSuccess);
  auto r = sendV2("denied_topic", "x", {}, &kRequester);
  expectRefused(r, "account requester1 may not PUB to topic denied_topic");
  EXPECT_EQ(maxOffset("denied_topic", 0), 0);
  // The same account may publish where it has PUB.
  ASSERT_EQ(createTopic("rpc_req", &kAdmin).code, resp::kSuccess);
  EXPECT_EQ(sendV2("rpc_req", "x", {}, &kRequester).code, resp::kSuccess);
  // And may not pull it (PUB only).
  auto pull = RemotingCommand::request(rc::kPullMessage);
  pull.set("consumerGroup", "g1");
  pull.set("topic", "rpc_req");
  pull.set("queueId", int64_t{0});
  pull.set("queueOffset", int64_t{0});
  pull.set("maxMsgNums", int64_t{1});
  pull.set("sysFlag", int64_t{0});
  pull.set("commitOffset", int64_t{0});
  pull.set("suspendTimeoutMillis", int64_t{0});
  pull.set("subVersion", int64_t{0});
  expectRefused(call(pull, &kRequester), "may not SUB to topic rpc_req");
}

TEST_F(BrokerAclTest, AdminAccountCanDoAdminOperations) {
  const std::string topic = uniqueName("acl_admin");
  ASSERT_EQ(createTopic(topic, &kAdmin).code, resp::kSuccess);
  EXPECT_TRUE(allTopics().contains(topic));
  // Signed with the binary (ROCKETMQ) header too: the server checks the fields as decoded.
  const std::string binary_topic = uniqueName("acl_admin_bin");
  auto create = RemotingCommand::request(rc::kUpdateAndCreateTopic);
  create.serialize_type = remoting::SerializeType::kRocketMq;
  create.set("topic", binary_topic);
  create.set("readQueueNums", int64_t{4});
  create.set("writeQueueNums", int64_t{4});
  create.set("perm", int64_t{6});
  EXPECT_EQ(call(create, &kAdmin).code, resp::kSuccess);
  expectRefused(call(create, &kWrongSecret), "signature check failed");
  EXPECT_TRUE(allTopics().contains(binary_topic));
  ASSERT_TRUE(waitUntil([&] { return route(topic).starts_with("0 "); }, 10s));
  auto del = RemotingCommand::request(rc::kDeleteTopicInBroker);
  del.set("topic", topic);
  EXPECT_EQ(call(del, &kAdmin).code, resp::kSuccess);
  auto del_ns = RemotingCommand::request(rc::kDeleteTopicInNamesrv);
  del_ns.set("topic", topic);
  EXPECT_EQ(call(del_ns, &kAdmin).code, resp::kSuccess);
  EXPECT_FALSE(allTopics().contains(topic));
}

TEST_F(BrokerAclTest, ForgedReplyFromPublishOnlyAccountIsRefusedAndTheRealReplyArrives) {
  ASSERT_EQ(createTopic("rpc_req", &kAdmin).code, resp::kSuccess);
  // The requester: a client that receives PUSH_REPLY_MESSAGE_TO_CLIENT on the connection it heartbeats on.
  remoting::TransportOptions to;
  to.credentials = kRequester;
  remoting::RemotingClient requester(to);
  std::mutex mu;
  std::vector<std::string> delivered;
  requester.registerHandler(rc::kPushReplyMessageToClient, [&](RemotingCommand push, remoting::Responder r) {
    {
      std::lock_guard<std::mutex> lock(mu);
      delivered.push_back(push.body);
    }
    r.respond(RemotingCommand::responseTo(push, resp::kSuccess));
  });
  requester.start();
  const std::string client_id = uniqueName("127.0.0.1@requester");
  remoting::HeartbeatData hb;
  hb.client_id = client_id;
  hb.producer_groups = {"acl_test_pg"};
  auto heartbeat = RemotingCommand::request(rc::kHeartBeat);
  heartbeat.body = remoting::encodeHeartbeat(hb);
  remoting::aclSignRequest(heartbeat, kRequester);
  auto hr = requester.invokeSync(addr_, heartbeat, 5s);
  ASSERT_TRUE(hr.isOk() && hr->code == resp::kSuccess) << (hr.isOk() ? hr->remarkOrEmpty() : hr.status().toString());

  const std::string corr = uniqueName("corr");
  auto request = RemotingCommand::request(rc::kSendMessageV2);
  request.set("a", "acl_test_pg");
  request.set("b", "rpc_req");
  request.set("e", int64_t{0});
  request.set("i", remoting::encodeProperties(
                       {{"CORRELATION_ID", corr}, {"REPLY_TO_CLIENT", client_id}, {"CLUSTER", "DefaultCluster"},
                        {"TTL", "5000"}}));
  request.body = "question";
  remoting::aclSignRequest(request, kRequester);
  auto sr = requester.invokeSync(addr_, request, 5s);
  ASSERT_TRUE(sr.isOk() && sr->code == resp::kSuccess) << (sr.isOk() ? sr->remarkOrEmpty() : sr.status().toString());

  const remoting::Properties reply_props{{"CORRELATION_ID", corr},
                                         {"REPLY_TO_CLIENT", client_id},
                                         {"CLUSTER", "DefaultCluster"},
                                         {"MSG_TYPE", "reply"}};
  const std::string reply_topic = "DefaultCluster_REPLY_TOPIC";
  auto forged = sendV2(reply_topic, "forged answer", reply_props, &kPublisher, rc::kSendReplyMessageV2);
  expectRefused(forged, "account publisher1 may not SUB to topic rpc_req");
  expectRefused(sendV2(reply_topic, "forged answer", reply_props, nullptr, rc::kSendReplyMessageV2), "not signed");
  // A reply for an id no request carried.
  remoting::Properties unknown = reply_props;
  unknown["CORRELATION_ID"] = "never-sent";
  expectRefused(sendV2(reply_topic, "forged answer", unknown, &kServer, rc::kSendReplyMessageV2),
                "matches no request");

  auto real = sendV2(reply_topic, "real answer", reply_props, &kServer, rc::kSendReplyMessageV2);
  EXPECT_EQ(real.code, resp::kSuccess) << real.remarkOrEmpty();
  ASSERT_TRUE(waitUntil(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return !delivered.empty();
      },
      10s));
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(delivered, std::vector<std::string>{"real answer"});
  }
  requester.shutdown();
}

TEST_F(BrokerAclTest, ReloadPicksUpANewAccountAndABrokenFileKeepsTheOldOnes) {
  const std::string topic = uniqueName("acl_reload");
  expectRefused(createTopic(topic, &kNewcomer), "unknown AccessKey newcomer1");
  writeFile(aclPath(), accountsYaml("  - accessKey: newcomer1\n    secretKey: newcomerSecret\n    admin: true\n"));
  // The broker's timer (aclReloadIntervalMillis=100) notices the new file.
  ASSERT_TRUE(waitUntil([&] { return createTopic(topic, &kNewcomer).code == resp::kSuccess; }, 10s));
  EXPECT_TRUE(allTopics().contains(topic));

  writeFile(aclPath(), "accounts: [ {accessKey: x, secretKey: 1234567");  // broken YAML
  EXPECT_FALSE(server_->aclGuard()->reloadIfChanged());
  EXPECT_EQ(createTopic(uniqueName("acl_still"), &kNewcomer).code, resp::kSuccess);
  EXPECT_EQ(server_->aclGuard()->config()->accounts.size(), 5u);
  expectRefused(createTopic(uniqueName("acl_still"), nullptr), "not signed");
}

TEST_F(BrokerAclTest, WhiteListedAddressWorksWithoutSignature) {
  const std::string topic = uniqueName("acl_white");
  expectRefused(createTopic(topic, nullptr), "not signed");
  writeFile(aclPath(), accountsYaml({}, "127.0.0.*"));
  ASSERT_TRUE(server_->aclGuard()->reloadIfChanged());
  EXPECT_EQ(createTopic(topic, nullptr).code, resp::kSuccess);
  EXPECT_TRUE(allTopics().contains(topic));
  EXPECT_EQ(sendV2(topic, "x", {}, nullptr).code, resp::kSuccess);
}

// Without aclEnable nothing changes: unsigned admin calls work.
class BrokerAclOffTest : public testing::OwnBrokerTest {
 protected:
  BrokerAclOffTest() : OwnBrokerTest("broker_acl_off") {}
};

TEST_F(BrokerAclOffTest, UnsignedRequestsAreServed) {
  EXPECT_EQ(server_->aclGuard(), nullptr);
  remoting::RemotingClient client;
  client.start();
  auto req = RemotingCommand::request(rc::kUpdateAndCreateTopic);
  req.set("topic", uniqueName("acl_off"));
  req.set("readQueueNums", int64_t{4});
  req.set("writeQueueNums", int64_t{4});
  req.set("perm", int64_t{6});
  auto r = client.invokeSync(addr_, req, 5s);
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->code, resp::kSuccess) << r->remarkOrEmpty();
  client.shutdown();
}

// The rocketrpc-broker executable: the keys work from the command line, and the process keeps serving after
// refusals.
TEST(BrokerAclBinaryTest, RefusesUnsignedAdminCodesAndServesSignedOnes) {
  auto dir = std::filesystem::temp_directory_path() / uniqueName("broker_acl_bin");
  const auto acl_file = dir / "accounts.yml";
  writeFile(acl_file, accountsYaml());
  std::string addr;
  auto broker = testing::startBrokerBinary({"--port", "0", "--store", (dir / "store").string(), "--set",
                                            "aclEnable=true", "--set", "aclFile=" + acl_file.string()},
                                           &addr);
  ASSERT_NE(broker, nullptr);
  remoting::RemotingClient client;
  client.start();
  const std::string topic = uniqueName("acl_bin");
  auto create = RemotingCommand::request(rc::kUpdateAndCreateTopic);
  create.set("topic", topic);
  create.set("readQueueNums", int64_t{4});
  create.set("writeQueueNums", int64_t{4});
  create.set("perm", int64_t{6});
  for (int i = 0; i < 3; ++i) {
    auto refused = client.invokeSync(addr, create, 5s);
    ASSERT_TRUE(refused.isOk()) << refused.status().toString();
    EXPECT_EQ(refused->code, resp::kNoPermission);
  }
  auto signed_create = create;
  remoting::aclSignRequest(signed_create, kAdmin);
  auto ok = client.invokeSync(addr, signed_create, 5s);
  ASSERT_TRUE(ok.isOk()) << ok.status().toString();
  EXPECT_EQ(ok->code, resp::kSuccess) << ok->remarkOrEmpty();
  client.shutdown();
  broker.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// A missing or bad account file stops the start with a clear error.
TEST(BrokerAclStartTest, BadAccountFileFailsTheStart) {
  auto dir = std::filesystem::temp_directory_path() / uniqueName("broker_acl_start");
  broker::BrokerConfig config;
  testing::relaxDiskLimits(config);
  config.listen_port = 0;
  config.store_path_root_dir = dir.string();
  config.acl_enable = true;
  {
    broker::BrokerServer server(config);
    Status s = server.start();
    EXPECT_FALSE(s.isOk());
    EXPECT_NE(s.toString().find("plain_acl.yml"), std::string::npos) << s.toString();
  }
  writeFile(dir / "config" / "plain_acl.yml", "accounts: [ {accessKey: shorty, secretKey: topSecret99} ]");
  {
    broker::BrokerServer server(config);
    Status s = server.start();
    EXPECT_FALSE(s.isOk());
    EXPECT_NE(s.toString().find("accessKey must be longer than 6"), std::string::npos) << s.toString();
    EXPECT_EQ(s.toString().find("topSecret99"), std::string::npos) << s.toString();
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace rocketrpc
