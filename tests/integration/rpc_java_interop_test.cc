// A Java 4.9.x DefaultMQProducer.request() (java-peer requester) answered by an RpcServer, including a
// handler exception, which must reach the Java requester as a reply (not a timeout) marked RRPC_STATUS=error.
// Needs ROCKETRPC_TEST_NAMESRV and ROCKETRPC_JAVA_PEER_JAR (set by scripts/run-tests.sh).
#include <gtest/gtest.h>

#include "rocketrpc/producer.h"
#include "rocketrpc/rpc.h"
#include "support/admin.h"
#include "support/subprocess.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using testing::testNamesrv;
using testing::uniqueName;

class FailingEcho : public RpcReceiver {
 public:
  std::string processRequest(std::string_view request) override {
    if (request == "boom") throw std::runtime_error("receiver failed on boom");
    return std::string(request);
  }
};

class RpcJavaInteropIT : public ::testing::Test {
 protected:
  void SetUp() override {
    ROCKETRPC_REQUIRE_CLUSTER();
    jar_ = testing::envOr("ROCKETRPC_JAVA_PEER_JAR", "");
    ASSERT_FALSE(jar_.empty()) << "ROCKETRPC_JAVA_PEER_JAR not set";
    topic_ = uniqueName("rpc_java");
    auto created = testing::createTopicOnAllBrokers(testNamesrv(), topic_, 4);
    ASSERT_TRUE(created.isOk()) << created.status().toString();
    RpcServerOptions o;
    o.broker_url = testNamesrv();
    o.request_topic = topic_;
    o.consumer_group = uniqueName("rpc_java_srv");
    server_ = std::make_unique<RpcServer>(o, std::make_shared<FailingEcho>());
    server_->start();
    ASSERT_TRUE(testing::waitUntil([&] { return !server_->assignedQueues().empty(); }, 30s));
  }
  void TearDown() override {
    if (server_) server_->close();
  }
  // The Java requester also prints each reply's error marker: STATUS i RRPC_STATUS=<v> RRPC_ERROR=<v>.
  testing::Subprocess requester(const std::string& body, int count) {
    return testing::Subprocess({"java", "-jar", jar_, "requester", "-n", testNamesrv(), "-t", topic_,
                                "--count", std::to_string(count), "--body", body, "--timeout-ms", "10000",
                                "--group", uniqueName("java_req"), "--print-status"});
  }
  std::string jar_, topic_;
  std::unique_ptr<RpcServer> server_;
};

TEST_F(RpcJavaInteropIT, JavaRequestIsAnsweredByRpcServer) {
  auto java = requester("hello from java", 10);
  auto rc = java.wait(180s);
  ASSERT_TRUE(rc.has_value()) << java.output();
  EXPECT_EQ(*rc, 0) << java.output();
  EXPECT_NE(java.output().find("ok=10 errors=0"), std::string::npos) << java.output();
  // Normal replies carry no error marker.
  for (int i = 1; i <= 10; ++i) {
    EXPECT_NE(java.output().find("STATUS " + std::to_string(i) + " RRPC_STATUS=- RRPC_ERROR=-\n"),
              std::string::npos)
        << java.output();
  }
  EXPECT_GE(server_->stats().replies, 10u);
}

TEST_F(RpcJavaInteropIT, HandlerExceptionReachesJavaAsAnErrorReply) {
  auto java = requester("boom", 1);
  auto rc = java.wait(180s);
  ASSERT_TRUE(rc.has_value()) << java.output();
  // The Java requester got a reply (its body is the error text, so it differs from what was sent), not a
  // timeout.
  EXPECT_NE(java.output().find("FAIL 1 body mismatch"), std::string::npos) << java.output();
  EXPECT_EQ(java.output().find("imeout"), std::string::npos) << java.output();
  // What the Java client itself reads from the reply: RRPC_STATUS=error and the handler's exception text.
  EXPECT_NE(java.output().find("STATUS 1 RRPC_STATUS=error RRPC_ERROR=receiver failed on boom\n"),
            std::string::npos)
      << java.output();
  EXPECT_EQ(server_->stats().handler_errors, 1u);
  // The same reply seen through our own Producer: RRPC_STATUS=error makes it an error reply.
  ProducerOptions po;
  po.namesrv_addr = testNamesrv();
  po.group = uniqueName("rpc_java_check");
  Producer producer(po);
  producer.start();
  try {
    producer.request(Message(topic_, "boom"), 10000ms);
    FAIL() << "error reply not recognised";
  } catch (const ReplyErrorException& e) {
    EXPECT_NE(std::string(e.what()).find("receiver failed on boom"), std::string::npos) << e.what();
  }
  producer.shutdown();
}

}  // namespace
}  // namespace rocketrpc
