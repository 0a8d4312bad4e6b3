// Streaming sessions across two server processes: 3 concurrent sessions of 1,000 messages each on a topic
// with 8 queues, served by one in-process RpcServer and one `rocketrpc serve --receiver concat` process of
// the same consumer group. Each session's messages reach one server, in order, and each end gets the right
// aggregate. Needs ROCKETRPC_TEST_NAMESRV and ROCKETRPC_CLI (set by scripts/run-tests.sh).
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <regex>
#include <thread>

#include "rocketrpc/rpc.h"
#include "support/admin.h"
#include "support/subprocess.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using testing::testNamesrv;
using testing::uniqueName;

/// Joins a session's parts with spaces and records any part out of place ("<prefix>-<index>" expected at
/// position index). Thread-safe.
class OrderCheckingReceiver : public RpcReceiver {
 public:
  std::string processRequest(std::string_view request) override { return std::string(request); }
  std::string processStreamingRequest(const std::string& session_id,
                                      const std::vector<std::string>& messages) override {
    std::string out;
    for (size_t i = 0; i < messages.size(); ++i) {
      const std::string& m = messages[i];
      size_t dash = m.rfind('-');
      if (dash == std::string::npos || m.substr(dash + 1) != std::to_string(i)) {
        std::lock_guard<std::mutex> lock(mu_);
        violations_.push_back(session_id + ": position " + std::to_string(i) + " holds '" + m + "'");
      }
      out += (out.empty() ? "" : " ") + m;
    }
    sessions++;
    return out;
  }
  std::vector<std::string> violations() {
    std::lock_guard<std::mutex> lock(mu_);
    return violations_;
  }
  std::atomic<int> sessions{0};

 private:
  std::mutex mu_;
  std::vector<std::string> violations_;
};

TEST(RpcStreamingIT, ThreeSessionsOfThousandMessagesAcrossTwoServerProcesses) {
  ROCKETRPC_REQUIRE_CLUSTER();
  const std::string cli = testing::envOr("ROCKETRPC_CLI", "");
  ASSERT_FALSE(cli.empty()) << "ROCKETRPC_CLI not set";
  const std::string ns = testNamesrv();
  const std::string topic = uniqueName("rpc_stream");
  const std::string group = uniqueName("rpc_stream_srv");
  auto created = testing::createTopicOnAllBrokers(ns, topic, 8);
  ASSERT_TRUE(created.isOk()) << created.status().toString();

  const std::string config = ::testing::TempDir() + "/" + uniqueName("rpc_stream") + ".yaml";
  {
    std::ofstream out(config);
    out << "rocketmq:\n  rpc:\n    server:\n      broker-url: " << ns << "\n      request-topic: " << topic
        << "\n      consumer-group: " << group << "\n      consume-threads: 8\n";
  }
  testing::Subprocess other({cli, "serve", "--config", config, "--receiver", "concat"});
  ASSERT_TRUE(other.waitForLine("READY", 60s)) << other.output();

  RpcServerOptions so;
  so.broker_url = ns;
  so.request_topic = topic;
  so.consumer_group = group;
  auto receiver = std::make_shared<OrderCheckingReceiver>();
  RpcServer server(so, receiver);
  server.start();
  // Both members rebalanced: this one holds half of the 8 queues (then give the other a moment to drop them).
  auto topic_queues = [&] {
    size_t n = 0;
    for (const MessageQueue& q : server.assignedQueues())
      n += q.topic == topic ? 1 : 0;  // not %RETRY%<group>
    return n;
  };
  ASSERT_TRUE(testing::waitUntil([&] { return topic_queues() == 4; }, 60s)) << "assigned " << topic_queues();
  std::this_thread::sleep_for(3s);

  RpcClientOptions co;
  co.broker_url = ns;
  co.request_topic = topic;
  RpcClient client(co);
  client.start();

  constexpr int kSessions = 3;
  constexpr int kMessages = 1000;
  std::vector<std::string> results(kSessions), errors(kSessions);
  std::vector<std::thread> threads;
  for (int s = 0; s < kSessions; ++s) {
    threads.emplace_back([&, s] {
      try {
        std::string id = client.sendStreamingStart();
        for (int i = 0; i < kMessages; ++i) {
          client.sendStreamingMessage(id, "s" + std::to_string(s) + "-" + std::to_string(i));
        }
        RpcResponse r = client.sendStreamingEnd(id, 120000ms);
        if (r.success()) {
          results[s] = std::string(r.payload());
        } else {
          errors[s] = "error reply: " + std::string(r.errorMessage());
        }
      } catch (const std::exception& e) {
        errors[s] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();

  for (int s = 0; s < kSessions; ++s) {
    std::string expected;
    for (int i = 0; i < kMessages; ++i) {
      expected += (i ? " " : "") + ("s" + std::to_string(s) + "-" + std::to_string(i));
    }
    EXPECT_EQ(errors[s], "") << "session " << s;
    EXPECT_EQ(results[s], expected) << "session " << s;
  }
  EXPECT_TRUE(receiver->violations().empty()) << receiver->violations().front();
  EXPECT_EQ(client.stats().stream_messages, static_cast<uint64_t>(kSessions * kMessages));
  client.close();
  server.close();

  other.signal(SIGTERM);
  auto rc = other.wait(60s);
  ASSERT_TRUE(rc.has_value()) << "rocketrpc serve did not stop";
  EXPECT_EQ(*rc, 0) << other.output();
  std::smatch m;
  std::string out = other.output();
  ASSERT_TRUE(std::regex_search(out, m, std::regex("sessions_completed=(\\d+)"))) << out;
  int remote_sessions = std::stoi(m[1]);
  EXPECT_EQ(receiver->sessions.load() + remote_sessions, kSessions)
      << "in-process " << receiver->sessions.load() << ", other process " << remote_sessions;
  std::cout << "sessions served: in-process " << receiver->sessions.load() << ", rocketrpc serve "
            << remote_sessions << std::endl;
  std::remove(config.c_str());
}

}  // namespace
}  // namespace rocketrpc
