// The `rocketrpc call` and `rocketrpc serve` commands against a real broker: replies, streaming aggregate,
// error replies, fail-fast without a server, and configuration errors naming the key. Needs
// ROCKETRPC_TEST_NAMESRV and ROCKETRPC_CLI (set by scripts/run-tests.sh).
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>

#include "support/admin.h"
#include "support/subprocess.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using testing::Subprocess;

class RpcCliIT : public ::testing::Test {
 protected:
  void SetUp() override {
    ROCKETRPC_REQUIRE_CLUSTER();
    cli_ = testing::envOr("ROCKETRPC_CLI", "");
    ASSERT_FALSE(cli_.empty()) << "ROCKETRPC_CLI not set";
    topic_ = testing::uniqueName("rpc_cli");
    auto created = testing::createTopicOnAllBrokers(testing::testNamesrv(), topic_, 4);
    ASSERT_TRUE(created.isOk()) << created.status().toString();
    config_ = writeConfig("      default-timeout-millis: 10000\n");
  }
  void TearDown() override {
    for (const auto& f : files_) std::remove(f.c_str());
  }
  std::string writeConfig(const std::string& extra_client_keys) {
    std::string path = ::testing::TempDir() + "/" + testing::uniqueName("rpc_cli") + ".yaml";
    std::ofstream out(path);
    out << "rocketmq:\n  rpc:\n    client:\n      broker-url: " << testing::testNamesrv()
        << "\n      request-topic: " << topic_ << "\n"
        << extra_client_keys << "    server:\n      consumer-group: " << testing::uniqueName("rpc_cli_srv")
        << "\n";
    files_.push_back(path);
    return path;
  }
  /// Runs a command to completion; returns its exit code (-1 on timeout) and its stdout.
  std::pair<int, std::string> run(std::vector<std::string> args) {
    args.insert(args.begin(), cli_);
    Subprocess p(args);
    auto rc = p.wait(60s);
    return {rc ? *rc : -1, p.output()};
  }
  /// Same, with stderr merged into the output (arguments must not need shell quoting). When args[0] is an
  /// environment assignment NAME=VALUE, `env`, or the CLI itself, args is the whole command line.
  std::pair<int, std::string> runMerged(const std::vector<std::string>& args) {
    const bool whole = !args.empty() && (args[0].find('=') != std::string::npos || args[0] == "env");
    std::string line = whole ? std::string() : cli_;
    for (const auto& a : args) line += (line.empty() ? "" : " ") + a;
    Subprocess p({"sh", "-c", line + " 2>&1"});
    auto rc = p.wait(60s);
    return {rc ? *rc : -1, p.output()};
  }
  std::string cli_, topic_, config_;
  std::vector<std::string> files_;
};

TEST_F(RpcCliIT, CallAndServe) {
  Subprocess server({cli_, "serve", "--config", config_, "--receiver", "concat"});
  ASSERT_TRUE(server.waitForLine("READY", 60s)) << server.output();
  auto [rc, out] = run({"call", "--config", config_, "--timeout-ms", "10000", "hello world"});
  EXPECT_EQ(rc, 0) << "server: " << server.output();
  EXPECT_EQ(out, "hello world\n");
  auto [src, sout] = run({"call", "--config", config_, "--stream", "Part", "1", "Part", "2"});
  EXPECT_EQ(src, 0);
  EXPECT_EQ(sout, "Part 1 Part 2\n");
  auto [strc, stout] = run({"call", "--config", config_, "--stats", "x"});
  EXPECT_EQ(strc, 0);
  server.signal(SIGTERM);
  ASSERT_TRUE(server.wait(60s).has_value());
  // Two single requests and one session end; the session was assembled from its 4 messages.
  EXPECT_NE(server.output().find("stats: requests=3 replies=3"), std::string::npos) << server.output();
  EXPECT_NE(server.output().find("sessions_completed=1"), std::string::npos);
}

TEST_F(RpcCliIT, UpperReceiver) {
  Subprocess server({cli_, "serve", "--config", config_, "--receiver", "upper"});
  ASSERT_TRUE(server.waitForLine("READY", 60s)) << server.output();
  auto [rc, out] = run({"call", "--config", config_, "shout"});
  EXPECT_EQ(rc, 0) << "server: " << server.output();
  EXPECT_EQ(out, "SHOUT\n");
  // A stream to a receiver without streaming support: an error reply, exit 1.
  auto [src, sout] = runMerged({"call", "--config", config_, "--stream", "a"});
  EXPECT_EQ(src, 1);
  EXPECT_NE(sout.find("error: RemoteError: streaming is not supported by this receiver"), std::string::npos)
      << sout;
  server.signal(SIGTERM);
  server.wait(60s);
}

TEST_F(RpcCliIT, CallWithoutServerFailsFastWithNoResponder) {
  auto t0 = std::chrono::steady_clock::now();
  auto [rc, out] = runMerged({"call", "--config", config_, "--timeout-ms", "20000", "anyone"});
  EXPECT_EQ(rc, 5);  // kExitUnavailable
  EXPECT_NE(out.find("error: NoResponder: "), std::string::npos) << out;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);  // process start included; the timeout is 20 s
}

// One failure, one name and one exit code in both layers: a dead name server is Network (exit 5) for `serve`
// (RpcServer) as for `respond` (PushConsumer); before, serve said SendFailed.
TEST_F(RpcCliIT, DeadNameServerIsNetworkForServeAndRespond) {
  const std::string closed = "127.0.0.1:1";  // nothing listens there
  std::string path = ::testing::TempDir() + "/" + testing::uniqueName("rpc_cli_dead") + ".yaml";
  {
    std::ofstream out(path);
    out << "rocketmq:\n  rpc:\n    server:\n      broker-url: " << closed << "\n      request-topic: " << topic_
        << "\n";
  }
  files_.push_back(path);
  auto [rc, out] = runMerged({"serve", "--config", path});
  EXPECT_EQ(rc, 5) << out;
  EXPECT_NE(out.find("error: Network: "), std::string::npos) << out;
  auto [rc2, out2] = runMerged({"respond", "-n", closed, "-t", topic_, "-g", testing::uniqueName("dead")});
  EXPECT_EQ(rc2, 5) << out2;
  EXPECT_NE(out2.find("error: Network: "), std::string::npos) << out2;
}

TEST_F(RpcCliIT, BadConfigurationNamesTheKey) {
  std::string bad = writeConfig("      max-concurrent-requests: 0\n");
  auto [rc, out] = runMerged({"call", "--config", bad, "x"});
  EXPECT_EQ(rc, 2);
  EXPECT_NE(out.find("rocketmq.rpc.client.max-concurrent-requests: must be in 1..1000000"), std::string::npos)
      << out;
  std::string unknown = writeConfig("      colour: blue\n");
  auto [rc2, out2] = runMerged({"serve", "--config", unknown});
  EXPECT_EQ(rc2, 2);
  EXPECT_NE(out2.find("rocketmq.rpc.client.colour: unknown key"), std::string::npos) << out2;
}

TEST_F(RpcCliIT, UnknownOrMissingCommandListsTheCommands) {
  auto [rc, out] = runMerged({"--log-level", "info", "reqest", "-n", "127.0.0.1:1"});
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("unknown command 'reqest'"), std::string::npos) << out;
  EXPECT_NE(out.find("commands: request, respond, call, serve, admin, version"), std::string::npos) << out;
  auto [rc2, out2] = runMerged({"--log-level", "info"});
  EXPECT_EQ(rc2, 2) << out2;
  EXPECT_NE(out2.find("a command is required (commands: request,"), std::string::npos) << out2;
}

TEST_F(RpcCliIT, UnknownSubcommandIsNamedAndTheSubcommandsListed) {
  auto [rc, out] = runMerged({"admin", "-n", "127.0.0.1:1", "tpoic"});
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("unknown subcommand 'tpoic' of 'admin'"), std::string::npos) << out;
  EXPECT_NE(out.find("subcommands of 'admin': topic, cluster,"), std::string::npos) << out;
  auto [rc2, out2] = runMerged({"admin", "topic", "craete", "-n", "127.0.0.1:1"});
  EXPECT_EQ(rc2, 2) << out2;
  EXPECT_NE(out2.find("unknown subcommand 'craete' of 'topic'"), std::string::npos) << out2;
  auto [rc3, out3] = runMerged({"admin", "-n", "127.0.0.1:1"});  // none given: nothing to name
  EXPECT_EQ(rc3, 2) << out3;
  EXPECT_EQ(out3.find("unknown subcommand"), std::string::npos) << out3;
  EXPECT_NE(out3.find("subcommands of 'admin'"), std::string::npos) << out3;
}

// ---- credentials ------------------------------------------------------------------------------------------

constexpr const char* kSecret = "s3cr3tNeverPrinted42";

TEST_F(RpcCliIT, EveryCommandTakesSecurityFlagsAndHelpNeverShowsTheSecret) {
  for (const char* command : {"call", "serve", "request", "respond", "admin"}) {
    auto [rc, out] = runMerged({std::string("ROCKETRPC_SECRET_KEY=") + kSecret, cli_, command, "--help"});
    EXPECT_EQ(rc, 0) << command << ": " << out;
    for (const char* flag : {"--access-key", "--secret-key", "--security-token", "--tls", "--tls-ca", "--tls-cert",
                             "--tls-key", "--tls-no-verify", "ROCKETRPC_SECRET_KEY"}) {
      EXPECT_NE(out.find(flag), std::string::npos) << command << " --help lacks " << flag << ":\n" << out;
    }
    EXPECT_EQ(out.find(kSecret), std::string::npos) << command << " --help shows the secret:\n" << out;
  }
}

TEST_F(RpcCliIT, SignedCallAndServeWorkAndTheSecretIsNeverPrinted) {
  // The broker under test has no ACL, so signed requests are served like any other; the point is that every
  // path carrying the secret (flag, environment, YAML) works and that no output of either process, at the
  // most verbose log level, contains it.
  std::string with_key = writeConfig("      access-key: rpc-cli-ak\n");  // secret from the environment
  Subprocess server({"sh", "-c",
                     std::string("ROCKETRPC_SECRET_KEY=") + kSecret + " exec " + cli_ +
                         " serve --log-level trace --config " + with_key + " 2>&1"});
  ASSERT_TRUE(server.waitForLine("READY", 60s)) << server.output();
  auto [rc, out] = runMerged({"call", "--log-level", "trace", "--config", config_, "--access-key", "rpc-cli-ak",
                              "--secret-key", kSecret, "--timeout-ms", "10000", "signed"});
  EXPECT_EQ(rc, 0) << out << "\nserver: " << server.output();
  EXPECT_NE(out.find("signed"), std::string::npos) << out;
  EXPECT_EQ(out.find(kSecret), std::string::npos) << out;
  server.signal(SIGTERM);
  ASSERT_TRUE(server.wait(60s).has_value());
  EXPECT_EQ(server.output().find(kSecret), std::string::npos) << server.output();
}

TEST_F(RpcCliIT, MissingSecretIsAUsageErrorNamingTheKeyNotTheValue) {
  std::string with_key = writeConfig("      access-key: rpc-cli-ak\n");
  auto [rc, out] = runMerged({"env", "-u", "ROCKETRPC_SECRET_KEY", cli_, "call", "--config", with_key, "x"});
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("rocketmq.rpc.client.access-key: secret-key is required"), std::string::npos) << out;
  // A secret without an access key is refused too, without echoing it.
  auto [rc2, out2] = runMerged({"request", "-n", testing::testNamesrv(), "-t", topic_, "--secret-key", kSecret,
                                "--timeout-ms", "1000", "x"});
  EXPECT_NE(rc2, 0) << out2;
  EXPECT_NE(out2.find("access_key is required"), std::string::npos) << out2;
  EXPECT_EQ(out2.find(kSecret), std::string::npos) << out2;
}

}  // namespace
}  // namespace rocketrpc
