// Interop with the Apache Java client 4.9.8 (java-peer/) through a real broker, both directions:
// a Java DefaultMQProducer.request() answered by `rocketrpc respond`, and rocketrpc requests answered by a Java
// consumer replying with MessageUtil.createReplyMessage. Needs ROCKETRPC_TEST_NAMESRV, ROCKETRPC_JAVA_PEER_JAR
// and ROCKETRPC_CLI (set by scripts/run-tests.sh).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>

#include "rocketrpc/producer.h"
#include "support/subprocess.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using testing::envOr;
using testing::Subprocess;

const char* kNonAscii = "h\xC3\xA9llo w\xC3\xB6rld \xE2\x9C\x93";  // "héllo wörld ✓"

class Interop : public ::testing::Test {
 protected:
  void SetUp() override {
    ROCKETRPC_REQUIRE_CLUSTER();
    jar_ = envOr("ROCKETRPC_JAVA_PEER_JAR", "");
    cli_ = envOr("ROCKETRPC_CLI", "");
    ASSERT_FALSE(jar_.empty()) << "ROCKETRPC_JAVA_PEER_JAR not set";
    ASSERT_FALSE(cli_.empty()) << "ROCKETRPC_CLI not set";
    ns_ = testing::testNamesrv();
    topic_ = testing::uniqueName("interop");
    // Create the topic before any consumer starts.
    ProducerOptions o;
    o.namesrv_addr = ns_;
    o.group = testing::uniqueName("interop_setup");
    Producer p(o);
    p.start();
    p.send(Message(topic_, "create"));
    p.shutdown();
  }
  // Until the responder has rebalanced and answers (it prints READY before its first pull completes).
  void warmUp() {
    ProducerOptions o;
    o.namesrv_addr = ns_;
    o.group = testing::uniqueName("interop_warm");
    Producer p(o);
    p.start();
    bool ok = testing::waitUntil(
        [&] {
          try {
            p.request(Message(topic_, "ping"), 2000ms);
            return true;
          } catch (const MQException&) {
            return false;
          }
        },
        90s);
    p.shutdown();
    ASSERT_TRUE(ok) << "responder never answered";
  }
  std::string jar_, cli_, ns_, topic_;
};

TEST_F(Interop, JavaRequesterIsAnsweredByRocketrpcRespond) {
  Subprocess responder({cli_, "respond", "-n", ns_, "-t", topic_, "-g", testing::uniqueName("cpp_resp"), "--mode",
                        "echo"});
  ASSERT_TRUE(responder.waitForLine("READY", 60s)) << responder.output();
  warmUp();
  Subprocess requester({"java", "-jar", jar_, "requester", "-n", ns_, "-t", topic_, "--count", "20", "--size",
                        "10240", "--timeout-ms", "10000", "--prop",
                        std::string("X-Name=") + kNonAscii});
  auto rc = requester.wait(180s);
  ASSERT_TRUE(rc.has_value()) << "java requester hung: " << requester.output();
  EXPECT_EQ(*rc, 0) << requester.output();
  EXPECT_NE(requester.output().find("ok=20 errors=0"), std::string::npos) << requester.output();
  responder.signal(SIGTERM);
  auto rrc = responder.wait(30s);
  ASSERT_TRUE(rrc.has_value()) << "rocketrpc respond did not stop on SIGTERM";
  EXPECT_EQ(*rrc, 0);
}

TEST_F(Interop, RocketrpcRequesterIsAnsweredByJavaResponder) {
  Subprocess responder({"java", "-jar", jar_, "responder", "-n", ns_, "-t", topic_, "-g",
                        testing::uniqueName("java_resp"), "--mode", "echo"});
  ASSERT_TRUE(responder.waitForLine("READY", 90s)) << responder.output();

  ProducerOptions o;
  o.namesrv_addr = ns_;
  o.group = testing::uniqueName("cpp_requester");
  Producer producer(o);
  producer.start();
  // The Java consumer needs a rebalance before it pulls: retry the first request until answered.
  MessageExt reply;
  ASSERT_TRUE(testing::waitUntil(
      [&] {
        try {
          reply = producer.request(Message(topic_, "ping"), 2000ms);
          return true;
        } catch (const MQException&) {
          return false;
        }
      },
      90s));
  EXPECT_EQ(reply.body(), "ping");

  std::string big;
  while (big.size() < 10000) big += "0123456789abcdef";
  Message m(topic_, big);
  m.putProperty("X-Name", kNonAscii);
  reply = producer.request(m, 10000ms);
  EXPECT_EQ(reply.body(), big);
  EXPECT_EQ(reply.getProperty("X-Name"), kNonAscii);
  producer.shutdown();

  Subprocess cli({cli_, "request", "-n", ns_, "-t", topic_, "--count", "200", "--inflight", "16", "--size", "5000",
                  "--expect-echo", "--timeout-ms", "10000"});
  auto rc = cli.wait(120s);
  ASSERT_TRUE(rc.has_value()) << cli.output();
  EXPECT_EQ(*rc, 0) << cli.output();
  EXPECT_NE(cli.output().find("ok=200 errors=0"), std::string::npos) << cli.output();
}

}  // namespace
}  // namespace rocketrpc
