// Start order (issue #11 item 4): a consumer, an RpcServer and `rocketrpc respond` may start before their topic
// exists and serve it within seconds of its creation; an RpcClient (and `rocketrpc call`) to a topic that has
// no route fails at once and does not create it by sending to it (no default-topic fallback), while a plain
// Producer keeps the Java client's auto-create.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "broker/broker_config.h"
#include "remoting/protocol/codes.h"
#include "remoting/transport.h"
#include "rocketrpc/producer.h"
#include "rocketrpc/push_consumer.h"
#include "rocketrpc/rpc.h"
#include "support/subprocess.h"
#include "support/admin.h"
#include "support/test_broker.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using remoting::RemotingCommand;
namespace rc = remoting::request_code;
namespace resp = remoting::response_code;
using testing::uniqueName;
using testing::waitUntil;

class Echo : public RpcReceiver {
 public:
  std::string processRequest(std::string_view request) override { return std::string(request); }
};

/// GET_ROUTEINFO_BY_TOPIC at `namesrv`: SUCCESS or TOPIC_NOT_EXIST (or -1 when it did not answer).
int32_t routeCode(const std::string& namesrv, const std::string& topic) {
  remoting::RemotingClient client;
  auto req = RemotingCommand::request(rc::kGetRouteInfoByTopic);
  req.set("topic", topic);
  auto r = client.invokeSync(namesrv, std::move(req), 5s);
  client.shutdown();
  return r.isOk() ? r->code : -1;
}

/// Sends one message with a plain Producer, which creates the topic from TBW102 (broker auto-create).
void createBySending(const std::string& namesrv, const std::string& topic) {
  Status sent = testing::sendOneMessage(namesrv, topic, "create");
  ASSERT_TRUE(sent.isOk()) << sent.toString();
}

// Before: start() threw NoRoute after api_timeout. Now it starts, and consumes the topic once a producer
// (auto-create) has made it.
TEST(StartOrderIT, PushConsumerStartsBeforeItsTopicExistsAndConsumesItOnceCreated) {
  ROCKETRPC_REQUIRE_CLUSTER();
  const std::string namesrv = testing::testNamesrv();
  const std::string topic = uniqueName("start_order_pc");
  ASSERT_EQ(routeCode(namesrv, topic), resp::kTopicNotExist);

  PushConsumerOptions co;
  co.namesrv_addr = namesrv;
  co.group = uniqueName("start_order_cg");
  co.consume_from_where = ConsumeFromWhere::kFirstOffset;
  PushConsumer consumer(co);
  consumer.subscribe(topic, "*");
  auto got = std::make_shared<std::atomic<int>>(0);
  consumer.setMessageListener([got](const std::vector<MessageExt>& msgs) {
    got->fetch_add(static_cast<int>(msgs.size()));
    return ConsumeStatus::kSuccess;
  });
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_NO_THROW(consumer.start());
  // It used to wait api_timeout (3 s) for a route and then throw; now it does not wait (a loose bound: the
  // suite also runs under the sanitizers on a loaded machine).
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s) << "start() waited for a route";

  ASSERT_NO_FATAL_FAILURE(createBySending(namesrv, topic));
  // "Within a few seconds": the route is looked up every second, then a heartbeat and a rebalance.
  EXPECT_TRUE(waitUntil([&] { return got->load() >= 1; }, 10s)) << "the created topic was not consumed";
  consumer.shutdown();
}

// Before: the requester fell back to TBW102's route, the broker created the misspelt topic, and the call
// waited out its whole timeout.
TEST(StartOrderIT, RpcClientToATopicWithoutRouteFailsAtOnceAndCreatesNothing) {
  ROCKETRPC_REQUIRE_CLUSTER();
  const std::string namesrv = testing::testNamesrv();
  const std::string topic = uniqueName("start_order_misspelt");
  RpcClientOptions opts;
  opts.broker_url = namesrv;
  opts.request_topic = topic;
  RpcClient client(opts);
  client.start();
  for (int i = 0; i < 2; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    try {
      client.sendSync("hello", 20000ms);
      ADD_FAILURE() << "a call to a topic without route succeeded";
    } catch (const RpcTimeoutException& e) {
      ADD_FAILURE() << "waited out its timeout: " << e.what();
    } catch (const RpcException& e) {
      EXPECT_TRUE(e.code() == RpcErrorCode::kSendFailed || e.code() == RpcErrorCode::kNoResponder)
          << rpcErrorCodeName(e.code()) << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find("no route"), std::string::npos) << e.what();
    }
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  }
  auto async = client.sendAsync("hello async", 20000ms);
  ASSERT_EQ(async.wait_for(5s), std::future_status::ready);
  EXPECT_THROW(async.get().payload(), RpcException);
  EXPECT_EQ(client.stats().in_flight, 0u);
  client.close();
  EXPECT_EQ(routeCode(namesrv, topic), resp::kTopicNotExist) << "the call created the topic";
}

// A plain Producer keeps the Java client's behaviour: its first send creates the topic.
TEST(StartOrderIT, PlainProducerStillAutoCreatesTheTopic) {
  ROCKETRPC_REQUIRE_CLUSTER();
  const std::string namesrv = testing::testNamesrv();
  const std::string topic = uniqueName("start_order_auto");
  ASSERT_NO_FATAL_FAILURE(createBySending(namesrv, topic));
  EXPECT_TRUE(waitUntil([&] { return routeCode(namesrv, topic) == resp::kSuccess; }, 10s));
}

// A broker that does not auto-create topics: the RpcServer cannot create its topic, starts anyway, and serves
// it within seconds of an operator creating it; until then calls fail at once with no route.
class NoAutoCreateIT : public testing::OwnBrokerTest {
 protected:
  NoAutoCreateIT() : OwnBrokerTest("start_order_no_auto") {}
  void configure(broker::BrokerConfig& config) override { config.auto_create_topic_enable = false; }
  void createTopic(const std::string& topic) {
    remoting::RemotingClient admin;
    auto create = RemotingCommand::request(rc::kUpdateAndCreateTopic);
    create.set("topic", topic);
    create.set("readQueueNums", static_cast<int64_t>(4));
    create.set("writeQueueNums", static_cast<int64_t>(4));
    create.set("perm", static_cast<int64_t>(6));
    auto r = admin.invokeSync(addr_, std::move(create), 5s);
    admin.shutdown();
    ASSERT_TRUE(r.isOk()) << r.status().toString();
    ASSERT_EQ(r->code, resp::kSuccess) << r->remarkOrEmpty();
  }
};

TEST_F(NoAutoCreateIT, RpcServerStartsBeforeItsTopicExistsAndServesItOnceCreated) {
  const std::string topic = uniqueName("start_order_rpc");
  RpcServerOptions so;
  so.broker_url = addr_;
  so.request_topic = topic;
  RpcServer server(so, std::make_shared<Echo>());
  ASSERT_NO_THROW(server.start());
  EXPECT_TRUE(server.isStarted());
  EXPECT_EQ(routeCode(addr_, topic), resp::kTopicNotExist);

  RpcClientOptions co;
  co.broker_url = addr_;
  co.request_topic = topic;
  RpcClient client(co);
  client.start();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_THROW(client.sendSync("too early", 20000ms), RpcException);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);

  ASSERT_NO_FATAL_FAILURE(createTopic(topic));
  const auto created = std::chrono::steady_clock::now();
  std::string last_error;
  bool served = waitUntil(
      [&] {
        try {
          return client.sendSync("hello", 3000ms).payload() == "hello";
        } catch (const RpcException& e) {
          last_error = e.what();
          return false;
        }
      },
      20s);
  ASSERT_TRUE(served) << last_error << "; server stats: " << toString(server.stats());
  EXPECT_LT(std::chrono::steady_clock::now() - created, 10s);
  client.close();
  server.close();
}

// `rocketrpc respond` (a PushConsumer) used to exit with NoRoute; now it prints READY and answers once the
// topic exists, and `rocketrpc call` to a topic without route fails at once.
TEST_F(NoAutoCreateIT, CliRespondStartsBeforeItsTopicExistsAndCallFailsFastUntilThen) {
  const std::string cli = testing::envOr(
      "ROCKETRPC_CLI", (std::filesystem::path(testing::brokerBinaryPath()).parent_path() / "rocketrpc").string());
  const std::string topic = uniqueName("start_order_cli");
  const std::string config = ::testing::TempDir() + "/" + uniqueName("start_order_cli") + ".yaml";
  {
    std::ofstream out(config);
    out << "rocketmq:\n  rpc:\n    client:\n      broker-url: " << addr_ << "\n      request-topic: " << topic
        << "\n";
  }
  testing::Subprocess respond({cli, "respond", "--namesrv", addr_, "--topic", topic, "--group",
                               uniqueName("start_order_cli_cg")});
  ASSERT_TRUE(respond.waitForLine("READY", 30s)) << respond.output();

  const auto t0 = std::chrono::steady_clock::now();
  testing::Subprocess early({cli, "call", "--config", config, "--timeout-ms", "20000", "x"});
  auto rc = early.wait(15s);
  ASSERT_TRUE(rc.has_value()) << "rocketrpc call did not fail fast";
  EXPECT_EQ(*rc, 5);  // no route: SendFailed, exit 5
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
  EXPECT_EQ(routeCode(addr_, topic), resp::kTopicNotExist);

  ASSERT_NO_FATAL_FAILURE(createTopic(topic));
  bool answered = waitUntil(
      [&] {
        testing::Subprocess call({cli, "call", "--config", config, "--timeout-ms", "3000", "ping"});
        auto code = call.wait(15s);
        return code.has_value() && *code == 0 && call.output() == "ping\n";
      },
      20s);
  EXPECT_TRUE(answered) << respond.output();
  respond.signal(SIGTERM);
  EXPECT_TRUE(respond.wait(15s).has_value());
  std::remove(config.c_str());
}

}  // namespace
}  // namespace rocketrpc
