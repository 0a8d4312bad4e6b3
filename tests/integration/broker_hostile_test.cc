// rocketrpc-broker under hostile or careless input (issues 9 and 10): each test starts its own broker (in-process
// or the binary, 127.0.0.1, a temporary store), sends what a careless or hostile client would, with a raw
// remoting client (binary ROCKETMQ headers where the attack needs bytes JSON cannot carry), and checks that the
// request gets a clear answer and the broker keeps serving. CTest labels: integration, fault.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/broker_config.h"
#include "broker/broker_context.h"
#include "broker/broker_server.h"
#include "broker/processor/processors.h"
#include "broker/pull_request_hold_service.h"
#include "common/thread_guard.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/message_codec.h"
#include "remoting/transport.h"
#include "support/subprocess.h"
#include "support/test_broker.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using remoting::RemotingCommand;
namespace rc = remoting::request_code;
namespace resp = remoting::response_code;
using testing::uniqueName;

using remoting::request_code::kGetBrokerRuntimeInfo;

// A fresh temporary directory, removed at the end of the test.
class TempDir {
 public:
  explicit TempDir(const std::string& name) : path_(std::filesystem::temp_directory_path() / uniqueName(name)) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// True when the broker at `addr` answers GET_BROKER_RUNTIME_INFO with success.
bool serves(remoting::RemotingClient& client, const std::string& addr) {
  auto r = client.invokeSync(addr, RemotingCommand::request(kGetBrokerRuntimeInfo), 5s);
  return r.isOk() && r->code == resp::kSuccess;
}

// ---- store directory lock (issue 9 item 6) ------------------------------------------------------------------

TEST(BrokerStoreLockTest, SecondBrokerBinaryOnTheSameStoreExitsNamingDirectoryAndHolder) {
  TempDir dir("store_lock");
  std::string addr;
  auto first = testing::startBrokerBinary({"--port", "0", "--store", dir.str()}, &addr);
  ASSERT_NE(first, nullptr);

  // stderr joined to stdout, so the message can be read.
  testing::Subprocess second({"/bin/sh", "-c",
                              "exec \"$0\" --port 0 --store \"$1\" 2>&1", testing::brokerBinaryPath(), dir.str()});
  std::string output;
  while (auto line = second.readLine(30s)) output += *line + "\n";
  auto code = second.wait(30s);
  ASSERT_TRUE(code.has_value()) << "the second broker did not exit; output:\n" << output;
  EXPECT_NE(*code, 0) << output;
  EXPECT_EQ(output.find("READY"), std::string::npos) << output;
  EXPECT_NE(output.find(dir.str()), std::string::npos) << output;
  EXPECT_NE(output.find("pid " + std::to_string(first->pid())), std::string::npos) << output;

  remoting::RemotingClient client;
  client.start();
  EXPECT_TRUE(serves(client, addr)) << "the first broker stopped serving";
  client.shutdown();
  first->signal(SIGTERM);
  auto first_code = first->wait(20s);
  ASSERT_TRUE(first_code.has_value());
  EXPECT_EQ(*first_code, 0);
}

TEST(BrokerStoreLockTest, InProcessSecondStartIsRefusedAndTheLockIsFreedByShutdown) {
  TempDir dir("store_lock_inproc");
  broker::BrokerConfig config;
  testing::relaxDiskLimits(config);
  config.listen_port = 0;
  config.store_path_root_dir = dir.str();
  auto first = std::make_unique<broker::BrokerServer>(config);
  ASSERT_TRUE(first->start().isOk());

  broker::BrokerServer second(config);
  Status s = second.start();
  ASSERT_FALSE(s.isOk());
  EXPECT_NE(s.toString().find(dir.str()), std::string::npos) << s.toString();
  EXPECT_NE(s.toString().find("pid " + std::to_string(::getpid())), std::string::npos) << s.toString();
  second.shutdown();

  remoting::RemotingClient client;
  client.start();
  EXPECT_TRUE(serves(client, first->address()));

  first->shutdown();
  first.reset();
  broker::BrokerServer third(config);  // the same store, once the first has let go
  ASSERT_TRUE(third.start().isOk());
  EXPECT_TRUE(serves(client, third.address()));
  third.shutdown();
  client.shutdown();
}

// ---- hostile names (issue 10 item 1) ----------------------------------------------------------------------

class BrokerHostileTest : public testing::OwnBrokerTest {
 protected:
  BrokerHostileTest() : OwnBrokerTest("broker_hostile") {}
  void configure(broker::BrokerConfig& config) override {
    config.flush_consumer_offset_interval = 100;  // the store's offset persist runs often
  }
  void SetUp() override {
    OwnBrokerTest::SetUp();
    client_.start();
  }
  void TearDown() override {
    client_.shutdown();
    OwnBrokerTest::TearDown();
  }
  // A request with a binary (ROCKETMQ) header, which carries any bytes in its strings (JSON cannot).
  static RemotingCommand binary(int32_t code) {
    auto req = RemotingCommand::request(code);
    req.serialize_type = remoting::SerializeType::kRocketMq;
    return req;
  }
  // The answer, or a failed expectation (a timeout included: silence is a failure here).
  RemotingCommand call(RemotingCommand req) {
    auto r = client_.invokeSync(addr_, std::move(req), 5s);
    EXPECT_TRUE(r.isOk()) << "no answer: " << r.status().toString();
    return r.isOk() ? *r : RemotingCommand{};
  }
  std::string readFile(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // The file parses as JSON (nlohmann rejects invalid UTF-8 too).
  bool isValidJson(const std::filesystem::path& path) {
    return !nlohmann::json::parse(readFile(path), nullptr, false).is_discarded();
  }
  RemotingCommand createTopic(const std::string& topic, const std::string& filter_type = "SINGLE_TAG") {
    auto req = binary(rc::kUpdateAndCreateTopic);
    req.set("topic", topic);
    req.set("readQueueNums", int64_t{4});
    req.set("writeQueueNums", int64_t{4});
    req.set("perm", int64_t{6});
    req.set("topicFilterType", filter_type);
    return call(std::move(req));
  }
  RemotingCommand updateOffset(const std::string& group, const std::string& topic, int64_t offset) {
    auto req = binary(rc::kUpdateConsumerOffset);
    req.set("consumerGroup", group);
    req.set("topic", topic);
    req.set("queueId", int64_t{0});
    req.set("commitOffset", offset);
    return call(std::move(req));
  }

  remoting::RemotingClient client_;
};

TEST_F(BrokerHostileTest, OffsetCommitWithInvalidUtf8GroupIsRefusedAndOffsetsStillPersist) {
  const uint64_t caught_before = caughtExceptionCount();
  auto r = updateOffset("g\xff", "hostile_topic", 5);
  EXPECT_EQ(r.code, resp::kSystemError);
  EXPECT_NE(r.remarkOrEmpty().find("group"), std::string::npos) << r.remarkOrEmpty();
  // The same with the bad bytes in the topic, and a name that is valid UTF-8 but outside the rules.
  EXPECT_EQ(updateOffset("g", "t\xff", 5).code, resp::kSystemError);
  EXPECT_EQ(updateOffset("g/../x", "t", 5).code, resp::kSystemError);
  // Nothing of them reached the offset table: the persist (run by the store every 100 ms, and here) works.
  EXPECT_FALSE(server_->context().store->consumerOffsets().get("g\xff", "hostile_topic", 0).has_value());
  EXPECT_TRUE(server_->context().store->persistConsumerOffsets().isOk());
  EXPECT_EQ(updateOffset("good_group", "hostile_topic", 7).code, resp::kSuccess);
  EXPECT_TRUE(server_->context().store->persistConsumerOffsets().isOk());
  std::this_thread::sleep_for(300ms);  // a few background persists
  const auto file = dir_ / "config" / "consumerOffset.json";
  ASSERT_TRUE(isValidJson(file)) << readFile(file);
  EXPECT_NE(readFile(file).find("hostile_topic@good_group"), std::string::npos);
  EXPECT_TRUE(serves(client_, addr_));
  EXPECT_EQ(caughtExceptionCount(), caught_before);
}

TEST_F(BrokerHostileTest, StoreOffsetTableWritesArbitraryBytesAsValidJson) {
  // Behind the door, the store itself must not throw on bytes that are not UTF-8 (a path the door misses).
  auto& offsets = server_->context().store->consumerOffsets();
  offsets.set("g\xff\xfe", "t\xc3", 0, 1);
  EXPECT_TRUE(server_->context().store->persistConsumerOffsets().isOk());
  EXPECT_TRUE(isValidJson(dir_ / "config" / "consumerOffset.json"));
  offsets.removeGroup("g\xff\xfe");
  EXPECT_TRUE(server_->context().store->persistConsumerOffsets().isOk());
}

TEST_F(BrokerHostileTest, TopicCreationWithInvalidFilterTypeIsAnsweredAndTopicsStayWritable) {
  auto r = createTopic("hostile_filter_topic", "\xff");
  EXPECT_EQ(r.code, resp::kSystemError);
  EXPECT_NE(r.remarkOrEmpty().find("topicFilterType"), std::string::npos) << r.remarkOrEmpty();
  EXPECT_FALSE(server_->context().topics->find("hostile_filter_topic").has_value());
  // Creation and persistence keep working: by admin, and by auto-creation on send.
  EXPECT_EQ(createTopic("hostile_after_topic").code, resp::kSuccess);
  EXPECT_EQ(createTopic("hostile_multi_topic", "MULTI_TAG").code, resp::kSuccess);
  auto send = binary(rc::kSendMessageV2);
  send.set("a", "hostile_pg");
  send.set("b", "hostile_auto_topic");
  send.set("c", "TBW102");
  send.set("d", int64_t{4});
  send.set("e", int64_t{0});
  send.set("f", int64_t{0});
  send.set("g", int64_t{0});
  send.set("h", int64_t{0});
  send.body = "hello";
  EXPECT_EQ(call(std::move(send)).code, resp::kSuccess);
  EXPECT_TRUE(server_->context().topics->find("hostile_auto_topic").has_value());
  const auto file = dir_ / "config" / "topics.json";
  ASSERT_TRUE(isValidJson(file)) << readFile(file);
  EXPECT_NE(readFile(file).find("hostile_auto_topic"), std::string::npos);
}

TEST_F(BrokerHostileTest, EveryHeaderNameIsCheckedAtTheDoor) {
  struct Case {
    int32_t code;
    const char* key;
    std::string value;
  };
  const std::vector<Case> cases = {
      {rc::kQueryConsumerOffset, "consumerGroup", "g\xff"},
      {rc::kQueryConsumerOffset, "topic", std::string(128, 'a')},
      {rc::kPullMessage, "consumerGroup", "bad group"},
      {rc::kGetMaxOffset, "topic", "t\x01"},
      {rc::kGetConsumerListByGroup, "consumerGroup", std::string(256, 'g')},
      {rc::kUnregisterClient, "clientID", "c\xff"},
      {rc::kSendMessageV2, "a", "pg\xff"},
      {rc::kSendMessageV2, "b", "t\xff"},
      {rc::kSendMessage, "producerGroup", "pg\xff"},
      {rc::kSendMessage, "properties", "KEYS\x01k\xff\x02TAGS\x01t"},
      {rc::kConsumerSendMsgBack, "group", "g\xff"},
      {rc::kDeleteTopicInBroker, "topic", "t\xff"},
      {rc::kDeleteSubscriptionGroup, "groupName", "g\xff"},
  };
  for (const Case& c : cases) {
    auto req = binary(c.code);
    req.set(c.key, c.value);
    auto r = call(std::move(req));
    EXPECT_EQ(r.code, resp::kSystemError) << "code " << c.code << " " << c.key << ": " << r.remarkOrEmpty();
    EXPECT_NE(r.remarkOrEmpty().find("The specified"), std::string::npos) << r.remarkOrEmpty();
  }
  // Names in bodies: a heartbeat whose group has a space is refused as a whole.
  auto hb = RemotingCommand::request(rc::kHeartBeat);
  hb.body = R"({"clientID":"127.0.0.1@x","producerDataSet":[],"consumerDataSet":[{"groupName":"bad group",)"
            R"("consumeType":"CONSUME_PASSIVELY","messageModel":"CLUSTERING","consumeFromWhere":)"
            R"("CONSUME_FROM_LAST_OFFSET","subscriptionDataSet":[],"unitMode":false}]})";
  auto r = call(std::move(hb));
  EXPECT_EQ(r.code, resp::kSystemError) << r.remarkOrEmpty();
  EXPECT_FALSE(server_->context().topics->find("%RETRY%bad group").has_value());
  const std::string metrics = server_->metricsText();
  EXPECT_NE(metrics.find("rocketrpc_broker_requests_refused_names_total " + std::to_string(cases.size())),
            std::string::npos);
  EXPECT_TRUE(serves(client_, addr_));
}

// ---- name-server codes behind the same door (issue 10 item 1) -------------------------------------------------

TEST_F(BrokerHostileTest, NameServerCodesAreBehindTheDoor) {
  auto registerBroker = [&](const std::string& cluster, const std::string& addr, const std::string& name,
                            std::string body) {
    auto req = binary(rc::kRegisterBroker);
    req.set("clusterName", cluster);
    req.set("brokerAddr", addr);
    req.set("brokerName", name);
    req.set("brokerId", int64_t{0});
    req.set("haServerAddr", addr);
    req.setBool("compressed", false);
    req.body = std::move(body);
    return call(std::move(req));
  };
  auto topicBody = [](const std::string& topic) {
    nlohmann::json t = {{"topicName", topic}, {"readQueueNums", 4}, {"writeQueueNums", 4}, {"perm", 6},
                        {"topicFilterType", "SINGLE_TAG"}, {"topicSysFlag", 0}, {"order", false}};
    nlohmann::json body = {{"topicConfigSerializeWrapper",
                            {{"dataVersion", {{"counter", 1}, {"timestamp", 1}}}, {"topicConfigTable", {{topic, t}}}}},
                           {"filterServerList", nlohmann::json::array()}};
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  const uint64_t caught_before = caughtExceptionCount();
  struct Case {
    RemotingCommand answer;
    const char* what;
  };
  std::vector<Case> cases;
  cases.push_back({registerBroker("c", "127.0.0.1:1", "b\xff", ""), "brokerName"});
  cases.push_back({registerBroker("c\x01", "127.0.0.1:1", "b", ""), "clusterName"});
  cases.push_back({registerBroker("c", "127.0.0.1:1 x", "b", ""), "brokerAddr"});
  cases.push_back({registerBroker("c", "127.0.0.1:1", "b", topicBody("bad topic")), "body topic"});
  cases.push_back(
      {registerBroker("c", "127.0.0.1:1", "b", "{\"topicConfigSerializeWrapper\":\xff\xfe"), "body bytes"});
  auto route = binary(rc::kGetRouteInfoByTopic);
  route.set("topic", "t\xff");
  cases.push_back({call(std::move(route)), "route topic"});
  auto del = binary(rc::kDeleteTopicInNamesrv);
  del.set("topic", std::string(128, 'a'));
  cases.push_back({call(std::move(del)), "delete topic"});
  auto unreg = binary(rc::kUnregisterBroker);
  unreg.set("clusterName", "c");
  unreg.set("brokerAddr", "127.0.0.1:1");
  unreg.set("brokerName", "b\x7f");
  unreg.set("brokerId", "not a number");
  cases.push_back({call(std::move(unreg)), "unregister"});
  for (const Case& c : cases) {
    EXPECT_EQ(c.answer.code, resp::kSystemError) << c.what << ": " << c.answer.remarkOrEmpty();
    EXPECT_FALSE(c.answer.remarkOrEmpty().empty()) << c.what;
  }
  EXPECT_NE(cases[0].answer.remarkOrEmpty().find("The specified brokerName"), std::string::npos);
  EXPECT_NE(cases[1].answer.remarkOrEmpty().find("The specified clusterName"), std::string::npos)
      << cases[1].answer.remarkOrEmpty();
  EXPECT_NE(cases[2].answer.remarkOrEmpty().find("The specified brokerAddr"), std::string::npos)
      << cases[2].answer.remarkOrEmpty();
  EXPECT_NE(cases[3].answer.remarkOrEmpty().find("The specified topic"), std::string::npos)
      << cases[3].answer.remarkOrEmpty();
  // None of them reached the route table; a valid registration still works and is routable.
  EXPECT_EQ(registerBroker("hostile_cluster", "127.0.0.1:1", "hostile_b", topicBody("hostile_ns_topic")).code,
            resp::kSuccess);
  auto clusters = call(binary(rc::kGetBrokerClusterInfo));
  ASSERT_EQ(clusters.code, resp::kSuccess);
  EXPECT_NE(clusters.body.find("hostile_b"), std::string::npos);
  EXPECT_EQ(clusters.body.find("bad topic"), std::string::npos);
  EXPECT_EQ(clusters.body.find("\"b\""), std::string::npos) << clusters.body;
  auto good_route = binary(rc::kGetRouteInfoByTopic);
  good_route.set("topic", "hostile_ns_topic");
  EXPECT_EQ(call(std::move(good_route)).code, resp::kSuccess);
  EXPECT_EQ(caughtExceptionCount(), caught_before);
  EXPECT_TRUE(serves(client_, addr_));
}

// ---- maxMessageSize on batches (issue 10 item 2) -------------------------------------------------------------

class BrokerHostileTest_Batch : public BrokerHostileTest {
 protected:
  RemotingCommand sendBatch(const std::string& topic, const std::vector<Message>& msgs) {
    auto req = binary(rc::kSendBatchMessage);
    req.set("a", "hostile_batch_pg");
    req.set("b", topic);
    req.set("c", "TBW102");
    req.set("d", int64_t{4});
    req.set("e", int64_t{0});
    req.set("f", int64_t{0});
    req.set("g", int64_t{0});
    req.set("h", int64_t{0});
    req.setBool("m", true);
    req.body = remoting::encodeBatch(msgs);
    auto r = client_.invokeSync(addr_, std::move(req), 30s);
    EXPECT_TRUE(r.isOk()) << "no answer: " << r.status().toString();
    return r.isOk() ? *r : RemotingCommand{};
  }
  int64_t stored(const std::string& topic) {
    int64_t n = 0;
    for (int q = 0; q < 4; ++q) n += server_->context().store->maxOffset(topic, q);
    return n;
  }
};

TEST_F(BrokerHostileTest_Batch, BatchOverMaxMessageSizeIsRefusedAsMessageIllegal) {
  const std::string topic = "hostile_big_batch";
  ASSERT_EQ(createTopic(topic).code, resp::kSuccess);
  // 12 MiB in 1 MiB messages: every message is under the 4 MiB default, the batch is not.
  std::vector<Message> msgs;
  for (int i = 0; i < 12; ++i) msgs.emplace_back(topic, std::string(1024 * 1024, 'b'));
  auto r = sendBatch(topic, msgs);
  EXPECT_EQ(r.code, resp::kMessageIllegal) << r.remarkOrEmpty();
  EXPECT_NE(r.remarkOrEmpty().find("msg body length limit 4194304B"), std::string::npos) << r.remarkOrEmpty();
  EXPECT_EQ(stored(topic), 0);
}

TEST_F(BrokerHostileTest_Batch, BatchHoldingOneMessageOverTheLimitIsRefused) {
  const std::string topic = "hostile_batch_one_big";
  ASSERT_EQ(createTopic(topic).code, resp::kSuccess);
  // 4 MiB + 60 kB in one message: under the store's record limit (maxMessageSize + 64 KiB), over maxMessageSize.
  std::vector<Message> msgs;
  msgs.emplace_back(topic, "small");
  msgs.emplace_back(topic, std::string(4 * 1024 * 1024 + 60 * 1000, 'x'));
  auto r = sendBatch(topic, msgs);
  EXPECT_EQ(r.code, resp::kMessageIllegal) << r.remarkOrEmpty();
  EXPECT_EQ(stored(topic), 0);
}

class BrokerHostileTest_SmallLimit : public BrokerHostileTest_Batch {
 protected:
  void configure(broker::BrokerConfig& config) override {
    BrokerHostileTest_Batch::configure(config);
    config.max_message_size = 1000;
  }
};

TEST_F(BrokerHostileTest_SmallLimit, EachMessageOfABatchIsCheckedOnItsOwn) {
  const std::string topic = "hostile_batch_each";
  ASSERT_EQ(createTopic(topic).code, resp::kSuccess);
  // A batch that fits is stored; one holding a message over the limit is refused whole (a batch body holds its
  // messages' bodies, so such a batch is over the limit as well: both checks refuse it).
  std::vector<Message> fits{Message(topic, std::string(300, 'a')), Message(topic, std::string(300, 'b'))};
  EXPECT_EQ(sendBatch(topic, fits).code, resp::kSuccess);
  EXPECT_EQ(stored(topic), 2);
  std::vector<Message> one_big{Message(topic, "a"), Message(topic, std::string(1001, 'c'))};
  auto r = sendBatch(topic, one_big);
  EXPECT_EQ(r.code, resp::kMessageIllegal) << r.remarkOrEmpty();
  EXPECT_EQ(stored(topic), 2);
  // A single message over the limit, as before.
  auto single = binary(rc::kSendMessageV2);
  single.set("a", "pg");
  single.set("b", topic);
  single.set("c", "TBW102");
  single.set("d", int64_t{4});
  single.set("e", int64_t{0});
  single.set("f", int64_t{0});
  single.set("g", int64_t{0});
  single.set("h", int64_t{0});
  single.body = std::string(1001, 's');
  EXPECT_EQ(call(std::move(single)).code, resp::kMessageIllegal);
  EXPECT_EQ(stored(topic), 2);
}

// ---- pulls: byte cap, hold time, holds per connection, holds of closed connections (issue 10 item 2) ----------

constexpr int64_t kFlagSuspend = 0x2;
constexpr int64_t kFlagSubscription = 0x4;

RemotingCommand pullRequest(const std::string& topic, int32_t queue, int64_t offset, int64_t suspend_ms,
                            int64_t max_bytes = 4 * 1024 * 1024) {
  auto req = RemotingCommand::request(rc::kPullMessage);
  req.set("consumerGroup", "hostile_pull_group");
  req.set("topic", topic);
  req.set("queueId", static_cast<int64_t>(queue));
  req.set("queueOffset", offset);
  req.set("maxMsgNums", int64_t{1024});
  req.set("maxMsgBytes", max_bytes);
  req.set("sysFlag", kFlagSubscription | (suspend_ms > 0 ? kFlagSuspend : 0));
  req.set("commitOffset", int64_t{0});
  req.set("suspendTimeoutMillis", suspend_ms);
  req.set("subscription", "*");
  req.set("subVersion", int64_t{0});
  return req;
}

class BrokerHostilePullTest : public BrokerHostileTest {
 protected:
  void configure(broker::BrokerConfig& config) override {
    BrokerHostileTest::configure(config);
    config.max_pull_hold_time_mills = 1000;
    config.max_pull_holds_per_connection = 4;
  }
  void put(const std::string& topic, int32_t queue, int count, size_t size) {
    std::vector<MessageExt> msgs;
    for (int i = 0; i < count; ++i) {
      MessageExt m;
      m.setTopic(topic);
      m.setQueueId(queue);
      m.setBody(std::string(size, 'p'));
      m.setBornHost("127.0.0.1:1");
      msgs.push_back(std::move(m));
    }
    ASSERT_TRUE(server_->context().store->putMessages(std::move(msgs)).isOk());
  }
};

TEST_F(BrokerHostilePullTest, PullBytesAreCappedByTheBrokerWhateverTheClientAsks) {
  const std::string topic = "hostile_pull_cap";
  ASSERT_EQ(createTopic(topic).code, resp::kSuccess);
  put(topic, 0, 30, 100 * 1024);  // 3 MB in queue 0
  auto r = call(pullRequest(topic, 0, 0, 0, INT32_MAX));
  ASSERT_EQ(r.code, resp::kSuccess) << r.remarkOrEmpty();
  const size_t cap = static_cast<size_t>(config_.max_transfer_bytes_on_message_in_memory);
  EXPECT_LE(r.body.size(), cap) << "the pull returned " << r.body.size() << " bytes";
  EXPECT_GE(r.body.size(), 2 * 100 * 1024u);
  // A message bigger than the cap still comes, alone (at least one message per pull).
  put(topic, 1, 2, 1024 * 1024);
  r = call(pullRequest(topic, 1, 0, 0, INT32_MAX));
  ASSERT_EQ(r.code, resp::kSuccess) << r.remarkOrEmpty();
  EXPECT_GT(r.body.size(), 1024 * 1024u);
  EXPECT_LT(r.body.size(), 2 * 1024 * 1024u);
  EXPECT_EQ(r.getInt("nextBeginOffset").value_or(-1), 1);
}

TEST_F(BrokerHostilePullTest, HoldTimeIsClampedToTheBrokersMaximum) {
  const std::string topic = "hostile_pull_clamp";
  ASSERT_EQ(createTopic(topic).code, resp::kSuccess);
  const auto start = std::chrono::steady_clock::now();
  auto r = client_.invokeSync(addr_, pullRequest(topic, 0, 0, 3600 * 1000), 10s);  // asks for one hour
  ASSERT_TRUE(r.isOk()) << "not answered within 10 s: " << r.status().toString();
  EXPECT_EQ(r->code, resp::kPullNotFound);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

class BrokerHostileHoldCapTest : public BrokerHostilePullTest {
 protected:
  void configure(broker::BrokerConfig& config) override {
    BrokerHostilePullTest::configure(config);
    config.max_pull_hold_time_mills = 3600 * 1000;  // no hold ends by itself during the test
  }
};

TEST_F(BrokerHostileHoldCapTest, HoldsPerConnectionAreCapped) {
  const std::string topic = "hostile_pull_per_conn";
  ASSERT_EQ(createTopic(topic).code, resp::kSuccess);
  for (int q = 0; q < 4; ++q) {
    client_.invokeAsync(addr_, pullRequest(topic, q, 0, 3600 * 1000), 3600s, [](Result<RemotingCommand>) {});
  }
  ASSERT_TRUE(testing::waitUntil([&] { return server_->context().pull_holds->holding() == 4; }, 10s));
  auto r = client_.invokeSync(addr_, pullRequest(topic, 0, 0, 3600 * 1000), 5s);
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  EXPECT_EQ(r->code, resp::kSystemBusy);
  EXPECT_NE(r->remarkOrEmpty().find("maxPullHoldsPerConnection"), std::string::npos) << r->remarkOrEmpty();
  EXPECT_EQ(server_->context().pull_holds->holding(), 4u);
  // Another connection is not affected: its pull is held (and answered when its short suspend time ends).
  remoting::RemotingClient other;
  other.start();
  auto o = other.invokeSync(addr_, pullRequest(topic, 0, 0, 200), 10s);
  ASSERT_TRUE(o.isOk()) << o.status().toString();
  EXPECT_EQ(o->code, resp::kPullNotFound);
  other.shutdown();
}

class BrokerHostileHoldCloseTest : public BrokerHostileTest {
 protected:
  void configure(broker::BrokerConfig& config) override {
    BrokerHostileTest::configure(config);
    config.max_pull_hold_time_mills = 3600 * 1000;  // only the close can end these holds in time
  }
};

TEST_F(BrokerHostileHoldCloseTest, HoldsOfAClosedConnectionAreDropped) {
  const std::string topic = "hostile_pull_close";
  ASSERT_EQ(createTopic(topic).code, resp::kSuccess);
  {
    remoting::RemotingClient doomed;
    doomed.start();
    for (int i = 0; i < 20; ++i) {
      auto req = pullRequest(topic, i % 4, 0, 3600 * 1000);
      req.body = std::string(1024 * 1024, 'b');  // a body the hold must not keep
      doomed.invokeAsync(addr_, std::move(req), 3600s, [](Result<RemotingCommand>) {});
    }
    ASSERT_TRUE(testing::waitUntil([&] { return server_->context().pull_holds->holding() == 20; }, 10s));
    doomed.shutdown();
  }
  EXPECT_TRUE(testing::waitUntil([&] { return server_->context().pull_holds->holding() == 0; }, 5s))
      << server_->context().pull_holds->holding() << " pulls still held";
  EXPECT_TRUE(testing::waitUntil(
      [&] { return server_->context().metrics.pulls_holding.load() == 0; }, 5s));
  EXPECT_TRUE(serves(client_, addr_));
}

}  // namespace
}  // namespace rocketrpc
