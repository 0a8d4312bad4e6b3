// An RpcClient and an RpcServer outliving their broker: rocketrpc-broker (the binary, on its own store) is
// killed with SIGKILL while both are running. Calls made while it is down fail with a clear error well before
// their timeout and leave nothing pending; once the broker is back on the same port and store, both reconnect
// by themselves (routes, heartbeats, the server's long-polling pulls) and calls succeed again. Runs against its
// own broker process whatever ROCKETRPC_TEST_NAMESRV says.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "rocketrpc/rpc.h"
#include "support/subprocess.h"
#include "support/test_broker.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using testing::uniqueName;
using testing::waitUntil;

class Echo : public RpcReceiver {
 public:
  std::string processRequest(std::string_view request) override {
    calls++;
    return std::string(request);
  }
  std::atomic<int> calls{0};
};

class BrokerRestartRpcIT : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = (std::filesystem::temp_directory_path() / uniqueName("broker_restart_rpc")).string();
    broker_ = testing::startBrokerBinary({"--port", "0", "--store", store_}, &addr_);
    ASSERT_TRUE(broker_) << "rocketrpc-broker did not start (" << testing::brokerBinaryPath() << ")";
    port_ = addr_.substr(addr_.rfind(':') + 1);
  }
  void TearDown() override {
    if (client_) client_->close();
    if (server_) server_->close();
    if (broker_) {
      broker_->signal(SIGTERM);
      broker_->wait(30s);
    }
    std::error_code ec;
    std::filesystem::remove_all(store_, ec);
  }
  /// Same port and store, so the clients' configured address is right again.
  void restartBroker() {
    std::string addr;
    broker_ = testing::startBrokerBinary({"--port", port_, "--store", store_}, &addr);
    ASSERT_TRUE(broker_) << "rocketrpc-broker did not restart on port " << port_;
    ASSERT_EQ(addr, addr_);
  }

  std::string store_, addr_, port_;
  std::unique_ptr<testing::Subprocess> broker_;
  std::shared_ptr<Echo> receiver_ = std::make_shared<Echo>();
  std::unique_ptr<RpcServer> server_;
  std::unique_ptr<RpcClient> client_;
};

TEST_F(BrokerRestartRpcIT, ClientAndServerRecoverAfterTheBrokerIsKilledAndRestarted) {
  const std::string topic = uniqueName("restart_rpc");
  RpcServerOptions so;
  so.broker_url = addr_;
  so.request_topic = topic;  // created by the server (auto-create), as a first deployment would
  server_ = std::make_unique<RpcServer>(so, receiver_);
  server_->start();
  RpcClientOptions co;
  co.broker_url = addr_;
  co.request_topic = topic;
  client_ = std::make_unique<RpcClient>(co);
  client_->start();
  ASSERT_EQ(client_->sendSync("before", 10000ms).payload(), "before");

  broker_->signal(SIGKILL);
  ASSERT_TRUE(broker_->wait(10s).has_value());
  broker_.reset();

  // While it is down: a clear error, not a hang until the timeout, and nothing left pending.
  for (int i = 0; i < 3; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    try {
      client_->sendSync("while down", 20000ms);
      ADD_FAILURE() << "a call succeeded with the broker down";
    } catch (const RpcTimeoutException& e) {
      ADD_FAILURE() << "reported as a timeout: " << e.what();
    } catch (const RpcException& e) {
      EXPECT_TRUE(e.code() == RpcErrorCode::kSendFailed || e.code() == RpcErrorCode::kNoResponder)
          << rpcErrorCodeName(e.code()) << ": " << e.what();
    }
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
  }
  auto down = client_->sendAsync("async while down", 20000ms);
  ASSERT_EQ(down.wait_for(15s), std::future_status::ready);
  EXPECT_THROW(down.get().payload(), RpcException);
  EXPECT_EQ(client_->stats().in_flight, 0u);

  restartBroker();
  // Both sides reconnect on their own: routes refresh, the server's heartbeat and pulls resume.
  bool recovered = waitUntil(
      [&] {
        try {
          return client_->sendSync("after", 3000ms).payload() == "after";
        } catch (const RpcException&) {
          return false;
        }
      },
      90s);
  ASSERT_TRUE(recovered) << "no successful call within 90 s of the restart; server stats: "
                         << toString(server_->stats()) << "; client stats: " << toString(client_->stats());
  std::vector<std::future<RpcResponse>> calls;
  for (int i = 0; i < 100; ++i) calls.push_back(client_->sendAsync("again " + std::to_string(i), 20000ms));
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(calls[static_cast<size_t>(i)].wait_for(30s), std::future_status::ready);
    EXPECT_EQ(calls[static_cast<size_t>(i)].get().payload(), "again " + std::to_string(i));
  }
  EXPECT_TRUE(server_->isStarted());
  EXPECT_GE(receiver_->calls.load(), 102);
}

}  // namespace
}  // namespace rocketrpc
