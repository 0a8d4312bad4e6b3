// `rocketrpc admin` against the broker under test (rocketrpc-broker, or Apache RocketMQ through
// ROCKETRPC_TEST_NAMESRV): topic create/update/route/list/delete, cluster, group list, consumer-progress (lag
// per queue after real consumption) and broker-stats, in tables and --json. Also the CLI's manners: a peer that
// is not RocketMQ is named as such, and a long `request --count` run in a pseudo-terminal shows a progress line
// and prints its summary on SIGINT/SIGTERM (exit 130/143), but prints no progress into a pipe.
// Needs ROCKETRPC_CLI (set by scripts/run-tests.sh) and python3 (the pseudo-terminal driver).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "rocketrpc/producer.h"
#include "rocketrpc/push_consumer.h"
#include "support/admin.h"
#include "support/subprocess.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using testing::Subprocess;
using Json = nlohmann::json;

std::string cliPath() { return testing::envOr("ROCKETRPC_CLI", ""); }

/// Runs the CLI with `args`; returns the exit code (-1 on timeout), stdout, and stdout+stderr.
struct CliRun {
  int rc = -1;
  std::string out;
};
CliRun runCli(const std::vector<std::string>& args, bool merge_stderr = false) {
  std::vector<std::string> argv;
  if (merge_stderr) {
    std::string line = cliPath();
    for (const auto& a : args) line += " '" + a + "'";
    argv = {"sh", "-c", line + " 2>&1"};
  } else {
    argv = args;
    argv.insert(argv.begin(), cliPath());
  }
  Subprocess p(argv);
  auto rc = p.wait(120s);
  return {rc ? *rc : -1, p.output()};
}

Json parseJson(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << text;
  return j;
}

class AdminCliIT : public ::testing::Test {
 protected:
  void SetUp() override {
    ROCKETRPC_REQUIRE_CLUSTER();
    ASSERT_FALSE(cliPath().empty()) << "ROCKETRPC_CLI not set";
    ns_ = testing::testNamesrv();
  }
  /// `admin <args> -n NS`, stderr merged.
  CliRun admin(std::vector<std::string> args) {
    args.insert(args.begin(), "admin");
    args.push_back("-n");
    args.push_back(ns_);
    return runCli(args, true);
  }
  CliRun adminJson(std::vector<std::string> args) {
    args.insert(args.begin(), "admin");
    args.insert(args.end(), {"-n", ns_, "--json"});
    return runCli(args);
  }
  /// Polls `topic route --json` until `ready` holds for the parsed route (brokers register on their own
  /// schedule with Apache); the last parsed route.
  template <typename Pred>
  Json waitRoute(const std::string& topic, Pred ready) {
    Json last;
    for (auto deadline = std::chrono::steady_clock::now() + 60s; std::chrono::steady_clock::now() < deadline;) {
      CliRun r = adminJson({"topic", "route", "-t", topic});
      last = r.rc == 0 ? Json::parse(r.out, nullptr, false) : Json();
      if (ready(r.rc, last)) return last;
      std::this_thread::sleep_for(500ms);
    }
    ADD_FAILURE() << "route of " << topic << " never reached the expected state; last: " << last.dump();
    return last;
  }
  std::string ns_;
};

int readQueues(const Json& route) {
  int n = 0;
  if (route.is_object() && route.contains("queueDatas")) {
    for (const auto& q : route["queueDatas"]) n += q["readQueueNums"].get<int>();
  }
  return n;
}

TEST_F(AdminCliIT, TopicCreateUpdateRouteListDelete) {
  const std::string topic = testing::uniqueName("admin_topic");
  CliRun created = admin({"topic", "create", "-t", topic, "-r", "3", "-w", "3"});
  ASSERT_EQ(created.rc, 0) << created.out;
  EXPECT_NE(created.out.find("topic " + topic + " (read 3, write 3, perm 6) set on"), std::string::npos)
      << created.out;
  Json route = waitRoute(topic, [](int rc, const Json& j) { return rc == 0 && readQueues(j) > 0; });
  ASSERT_FALSE(route["queueDatas"].empty());
  for (const auto& q : route["queueDatas"]) {
    EXPECT_EQ(q["readQueueNums"], 3);
    EXPECT_EQ(q["writeQueueNums"], 3);
    EXPECT_EQ(q["perm"], 6);
  }
  ASSERT_FALSE(route["brokerDatas"].empty());
  EXPECT_TRUE(route["brokerDatas"][0]["brokerAddrs"].contains("0")) << route.dump();

  CliRun table = admin({"topic", "route", "-t", topic});
  ASSERT_EQ(table.rc, 0) << table.out;
  EXPECT_EQ(table.out.rfind("BROKER", 0), 0u) << table.out;
  EXPECT_NE(table.out.find("RW (6)"), std::string::npos) << table.out;

  CliRun list = adminJson({"topic", "list"});
  ASSERT_EQ(list.rc, 0) << list.out;
  Json topics = parseJson(list.out)["topics"];
  EXPECT_NE(std::find(topics.begin(), topics.end(), topic), topics.end()) << list.out;

  CliRun updated = admin({"topic", "update", "-t", topic, "-r", "5", "-w", "5"});
  ASSERT_EQ(updated.rc, 0) << updated.out;
  route = waitRoute(topic, [](int rc, const Json& j) {
    if (rc != 0 || j["queueDatas"].empty()) return false;
    for (const auto& q : j["queueDatas"]) {
      if (q["readQueueNums"] != 5) return false;
    }
    return true;
  });

  CliRun deleted = admin({"topic", "delete", "-t", topic});
  if (deleted.rc != 0 && deleted.out.find("TimerMessageStore") != std::string::npos) {
    // Apache RocketMQ 5.x itself: with timerWheelEnable=false (as scripts/apache-rocketmq.sh runs it) its
    // DELETE_TOPIC_IN_BROKER throws a NullPointerException on the absent timer store (see interop_mqadmin_test:
    // mqadmin deleteTopic fails the same way). The error names it, with exit code 1; rocketrpc-broker and Apache
    // 4.9.x run the whole test.
    EXPECT_EQ(deleted.rc, 1) << deleted.out;
    EXPECT_NE(deleted.out.find("error: BrokerError: DELETE_TOPIC_IN_BROKER of " + topic), std::string::npos)
        << deleted.out;
    GTEST_SKIP() << "Apache 5.x broker without a timer store cannot delete topics";
  }
  ASSERT_EQ(deleted.rc, 0) << deleted.out;
  waitRoute(topic, [](int rc, const Json&) { return rc == 5; });  // NoRoute
  CliRun gone = admin({"topic", "route", "-t", topic});
  EXPECT_EQ(gone.rc, 5) << gone.out;
  EXPECT_NE(gone.out.find("error: NoRoute: "), std::string::npos) << gone.out;
  list = adminJson({"topic", "list"});
  topics = parseJson(list.out)["topics"];
  EXPECT_EQ(std::find(topics.begin(), topics.end(), topic), topics.end()) << list.out;
}

TEST_F(AdminCliIT, ClusterAndBrokerStatsNameEveryMaster) {
  CliRun cluster = adminJson({"cluster"});
  ASSERT_EQ(cluster.rc, 0) << cluster.out;
  Json clusters = parseJson(cluster.out)["clusters"];
  ASSERT_FALSE(clusters.empty()) << cluster.out;
  std::vector<std::string> masters;
  for (const auto& [name, brokers] : clusters.items()) {
    for (const auto& b : brokers) {
      if (b["brokerAddrs"].contains("0")) masters.push_back(b["brokerAddrs"]["0"].get<std::string>());
    }
  }
  ASSERT_FALSE(masters.empty()) << cluster.out;

  // Apache RocketMQ's GET_BROKER_RUNTIME_INFO throws NoSuchElementException (LinkedList.getLast) while any stats
  // item created by recent traffic has no sample yet (sampled every 10 s); mqadmin brokerStatus fails the same
  // way, and with other test processes creating topics all the time it may never clear. That answer is retried
  // for up to 30 s; if it persists, the test checks that it is reported as the broker's error (exit 1, naming
  // the broker) and stops there. rocketrpc-broker always runs the whole test.
  auto apacheStatsBug = [](const CliRun& r) {
    return r.rc != 0 && r.out.find("NoSuchElementException") != std::string::npos;
  };
  // Runs `broker-stats ARGS` (JSON on stdout when `json`) until it is not refused for that reason, for up to
  // 30 s; nullopt when it still is (then checked as the broker's error, and the test stops).
  auto brokerStats = [&](std::vector<std::string> args, bool json) -> std::optional<CliRun> {
    args.insert(args.begin(), "broker-stats");
    for (auto until = std::chrono::steady_clock::now() + 30s;;) {
      CliRun r = json ? adminJson(args) : admin(args);
      CliRun why = r.rc == 0 || !json ? r : admin(args);  // stderr (the reason) is merged only in admin()
      if (!apacheStatsBug(why)) return r;
      if (std::chrono::steady_clock::now() > until) {
        EXPECT_EQ(why.rc, 1) << why.out;
        EXPECT_NE(why.out.find("error: BrokerError: GET_BROKER_RUNTIME_INFO at broker "), std::string::npos)
            << why.out;
        return std::nullopt;
      }
      std::this_thread::sleep_for(1s);
    }
  };
  auto stats_run = brokerStats({}, true);
  if (!stats_run) GTEST_SKIP() << "Apache broker cannot report runtime info while a fresh stats item has no sample";
  CliRun stats = *stats_run;
  ASSERT_EQ(stats.rc, 0) << stats.out;
  Json by_broker = parseJson(stats.out);
  for (const auto& addr : masters) {
    ASSERT_TRUE(by_broker.contains(addr)) << stats.out;
    EXPECT_TRUE(by_broker[addr].contains("brokerVersionDesc")) << stats.out;
    EXPECT_GE(std::stoll(by_broker[addr]["commitLogMaxOffset"].get<std::string>()), 0);
  }
  auto one_run = brokerStats({"-b", masters[0]}, false);
  if (!one_run) GTEST_SKIP() << "Apache broker cannot report runtime info while a fresh stats item has no sample";
  CliRun one = *one_run;
  ASSERT_EQ(one.rc, 0) << one.out;
  EXPECT_NE(one.out.find(masters[0] + "  "), std::string::npos) << one.out;
  EXPECT_NE(one.out.find("commitLogMaxOffset"), std::string::npos) << one.out;

  CliRun table = admin({"cluster"});
  ASSERT_EQ(table.rc, 0) << table.out;
  EXPECT_NE(table.out.find(masters[0]), std::string::npos) << table.out;

  CliRun unknown = admin({"group", "list", "-c", "no_such_cluster_" + testing::uniqueName("c")});
  EXPECT_EQ(unknown.rc, 5) << unknown.out;  // NoRoute
  EXPECT_NE(unknown.out.find("no cluster named"), std::string::npos) << unknown.out;
}

TEST_F(AdminCliIT, ConsumerProgressShowsTheLagPerQueueAndGroupListShowsTheGroup) {
  const std::string topic = testing::uniqueName("admin_lag");
  const std::string group = testing::uniqueName("admin_lag_g");
  auto created = testing::createTopicOnAllBrokers(ns_, topic, 2);
  ASSERT_TRUE(created.isOk()) << created.status().toString();

  ProducerOptions po;
  po.namesrv_addr = ns_;
  po.group = testing::uniqueName("admin_lag_p");
  Producer producer(po);
  producer.start();
  constexpr int kConsumed = 10, kBacklog = 7;
  for (int i = 0; i < kConsumed; ++i) producer.send(Message(topic, "m" + std::to_string(i)));

  {
    PushConsumerOptions co;
    co.namesrv_addr = ns_;
    co.group = group;
    co.consume_from_where = ConsumeFromWhere::kFirstOffset;
    PushConsumer consumer(co);
    consumer.subscribe(topic, "*");
    std::atomic<int> received{0};
    consumer.setMessageListener([&](const std::vector<MessageExt>& msgs) -> ConsumeStatus {
      received += static_cast<int>(msgs.size());
      return ConsumeStatus::kSuccess;
    });
    consumer.start();
    for (auto deadline = std::chrono::steady_clock::now() + 60s;
         received < kConsumed && std::chrono::steady_clock::now() < deadline;) {
      std::this_thread::sleep_for(100ms);
    }
    ASSERT_EQ(received.load(), kConsumed);
    consumer.shutdown();  // commits the offsets to the broker
  }
  for (int i = 0; i < kBacklog; ++i) producer.send(Message(topic, "b" + std::to_string(i)));
  producer.shutdown();

  Json progress;
  for (auto deadline = std::chrono::steady_clock::now() + 30s; std::chrono::steady_clock::now() < deadline;) {
    CliRun r = adminJson({"consumer-progress", "-g", group, "-t", topic});
    progress = r.rc == 0 ? parseJson(r.out) : Json();
    if (r.rc == 0 && progress["totalLag"] == kBacklog) break;
    std::this_thread::sleep_for(500ms);
  }
  ASSERT_TRUE(progress.is_object()) << "consumer-progress never answered";
  EXPECT_EQ(progress["totalLag"], kBacklog) << progress.dump();
  int64_t consumer_sum = 0, broker_sum = 0;
  for (const auto& q : progress["queues"]) {
    EXPECT_EQ(q["topic"], topic);
    EXPECT_EQ(q["lag"].get<int64_t>(), q["brokerOffset"].get<int64_t>() - q["consumerOffset"].get<int64_t>());
    consumer_sum += q["consumerOffset"].get<int64_t>();
    broker_sum += q["brokerOffset"].get<int64_t>();
    if (q["consumerOffset"].get<int64_t>() > 0) EXPECT_GT(q["lastTimestamp"].get<int64_t>(), 0) << q.dump();
  }
  EXPECT_EQ(progress["queues"].size(), 2u * static_cast<size_t>(*created)) << progress.dump();
  EXPECT_EQ(consumer_sum, kConsumed);
  EXPECT_EQ(broker_sum, kConsumed + kBacklog);

  CliRun table = admin({"consumer-progress", "-g", group});
  ASSERT_EQ(table.rc, 0) << table.out;
  EXPECT_NE(table.out.find("total lag: " + std::to_string(kBacklog)), std::string::npos) << table.out;

  CliRun groups = adminJson({"group", "list"});
  ASSERT_EQ(groups.rc, 0) << groups.out;
  bool listed = false;
  const Json listing = parseJson(groups.out);  // named: a range-for over a temporary's member dangles
  for (const auto& g : listing["groups"]) listed = listed || g["groupName"] == group;
  EXPECT_TRUE(listed) << groups.out;

  CliRun none = admin({"consumer-progress", "-g", testing::uniqueName("admin_never")});
  EXPECT_EQ(none.rc, 5) << none.out;
  EXPECT_NE(none.out.find("has no consume progress"), std::string::npos) << none.out;
}

// --- a peer that is not RocketMQ ------------------------------------------------------------------------

/// Listens on 127.0.0.1 (any port) and answers every connection with an HTTP error, as a web server on the
/// wrong port would.
class HttpLikeServer {
 public:
  HttpLikeServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;  // closed
        char buf[512];
        (void)::read(c, buf, sizeof buf);
        static const char kReply[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        (void)::write(c, kReply, sizeof kReply - 1);
        ::close(c);
      }
    });
  }
  ~HttpLikeServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string addr() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST(CliPeerIT, APeerThatIsNotRocketMqIsNamedAsSuch) {
  ASSERT_FALSE(cliPath().empty()) << "ROCKETRPC_CLI not set";
  HttpLikeServer http;
  CliRun admin = runCli({"admin", "topic", "list", "-n", http.addr(), "--timeout-ms", "3000"}, true);
  EXPECT_EQ(admin.rc, 5) << admin.out;
  EXPECT_NE(admin.out.find(http.addr() + " is not a RocketMQ name server"), std::string::npos) << admin.out;
  EXPECT_NE(admin.out.find("HTTP/1.1 400"), std::string::npos) << admin.out;
  EXPECT_EQ(admin.out.find("frame of"), std::string::npos) << admin.out;

  CliRun request = runCli({"request", "-n", http.addr(), "-t", "AnyTopic", "--timeout-ms", "3000", "x"}, true);
  EXPECT_EQ(request.rc, 5) << request.out;
  EXPECT_NE(request.out.find(http.addr() + " is not a RocketMQ name server"), std::string::npos) << request.out;
}

// --- progress line and signals ------------------------------------------------------------------------

// Runs argv[2:] in a pseudo-terminal (so stderr is a terminal), sends the signal named argv[1] once the output
// holds two progress updates, and prints everything the command wrote, then "EXIT <code>".
constexpr const char* kPtyDriver = R"PY(
import os, pty, select, signal, sys, time
sig = getattr(signal, sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
buf, sent, deadline = b'', False, time.time() + 90
while time.time() < deadline:
    if not sent and buf.count(b'done=') >= 2:
        os.kill(pid, sig)
        sent = True
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        buf += data
else:
    os.kill(pid, signal.SIGKILL)
_, status = os.waitpid(pid, 0)
code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
sys.stdout.write(buf.decode('utf-8', 'replace').replace('\r', '<CR>') + '\nEXIT %d\n' % code)
)PY";

class CliMannersIT : public AdminCliIT {
 protected:
  void SetUp() override {
    AdminCliIT::SetUp();
    topic_ = testing::uniqueName("cli_manners");
    auto created = testing::createTopicOnAllBrokers(ns_, topic_, 2);
    ASSERT_TRUE(created.isOk()) << created.status().toString();
  }
  /// A long `request --count` run (nobody answers: each request times out after 300 ms) in a pseudo-terminal,
  /// stopped by `sig`.
  CliRun interrupted(const std::string& sig) {
    Subprocess p({"python3", "-c", kPtyDriver, sig, cliPath(), "request", "-n", ns_, "-t", topic_, "--count",
                  "100000", "--timeout-ms", "300", "--inflight", "2"});
    auto rc = p.wait(120s);
    EXPECT_TRUE(rc.has_value());
    return {rc ? *rc : -1, p.output()};
  }
  std::string topic_;
};

int exitOf(const std::string& out) {
  auto pos = out.rfind("EXIT ");
  return pos == std::string::npos ? -1 : std::stoi(out.substr(pos + 5));
}

TEST_F(CliMannersIT, ProgressOnATerminalAndSigintPrintsTheSummaryAndExits130) {
  CliRun r = interrupted("SIGINT");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(exitOf(r.out), 130) << r.out;
  EXPECT_NE(r.out.find("<CR>done="), std::string::npos) << r.out;  // rewritten in place
  EXPECT_NE(r.out.find("/100000 failed="), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ok=0 errors="), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("error: Interrupted: SIGINT after "), std::string::npos) << r.out;
}

TEST_F(CliMannersIT, SigtermPrintsTheSummaryAndExits143) {
  CliRun r = interrupted("SIGTERM");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(exitOf(r.out), 143) << r.out;
  EXPECT_NE(r.out.find("ok=0 errors="), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("error: Interrupted: SIGTERM after "), std::string::npos) << r.out;
}

TEST_F(CliMannersIT, NoProgressLineIntoAPipe) {
  CliRun r = runCli({"request", "-n", ns_, "-t", topic_, "--count", "4", "--timeout-ms", "600"}, true);
  EXPECT_EQ(r.rc, 4) << r.out;  // RequestTimeout: nobody answers
  EXPECT_NE(r.out.find("ok=0 errors=4"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("done="), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\r'), std::string::npos) << r.out;
}

}  // namespace
}  // namespace rocketrpc
