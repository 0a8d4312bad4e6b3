// rocketrpc-broker under hostile or careless input (issues 9 and 10): each test starts its own broker (in-process
// or the binary, 127.0.0.1, a temporary store), sends what a careless or hostile client would, with a raw
// remoting client (binary ROCKETMQ headers where the attack needs bytes JSON cannot carry), and checks that the
// request gets a clear answer and the broker keeps serving. CTest labels: integration, fault.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "broker/broker_config.h"
#include "broker/broker_server.h"
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

}  // namespace
}  // namespace rocketrpc
