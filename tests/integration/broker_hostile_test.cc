// rocketrpc-broker under hostile or careless input (issues 9 and 10): each test starts its own broker (in-process
// or the binary, 127.0.0.1, a temporary store), sends what a careless or hostile client would, with a raw
// remoting client (binary ROCKETMQ headers where the attack needs bytes JSON cannot carry), and checks that the
// request gets a clear answer and the broker keeps serving. CTest labels: integration, fault.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
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
#include "common/thread_guard.h"
#include "remoting/protocol/codes.h"
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

constexpr int32_t kGetBrokerRuntimeInfo = 28;

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
      {broker::kDeleteSubscriptionGroup, "groupName", "g\xff"},
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

}  // namespace
}  // namespace rocketrpc
