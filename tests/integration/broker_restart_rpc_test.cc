// An RpcClient and an RpcServer outliving their broker: rocketrpc-broker (the binary, on its own store) is
// killed with SIGKILL while both are running. Calls made while it is down fail with a clear error well before
// their timeout and leave nothing pending; once the broker is back on the same port and store, both reconnect
// by themselves (routes, heartbeats, the server's long-polling pulls) and every call sent 3 s after the broker
// is READY again succeeds (issue #11 item 3). Runs against its own broker process whatever
// ROCKETRPC_TEST_NAMESRV says.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "rocketrpc/rpc.h"
#include "support/subprocess.h"
#include "support/test_broker.h"
#include "support/test_support.h"

namespace rocketrpc {
namespace {

using namespace std::chrono_literals;
using testing::uniqueName;

class Echo : public RpcReceiver {
 public:
  std::string processRequest(std::string_view request) override {
    calls++;
    return std::string(request);
  }
  std::atomic<int> calls{0};
};

// Issue #11 asks for 3 s. Under ASan/TSan the restarted broker and both clients run several times slower
// (the recovery itself is timer-driven: 0.5 s heartbeat retries, 1 s pull retries), so the sanitizer builds
// allow 10 s; the plain build checks the 3 s.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr std::chrono::milliseconds kServeAgainWithin{10000};
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr std::chrono::milliseconds kServeAgainWithin{10000};
#else
constexpr std::chrono::milliseconds kServeAgainWithin{3000};
#endif
#else
constexpr std::chrono::milliseconds kServeAgainWithin{3000};
#endif

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

  void startServerAndClient() {
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
    // Past the instances' first periodic heartbeat (1 s after start; the next is 30 s later), so that only the
    // recovery itself can make the restarted broker know the server and the client again.
    std::this_thread::sleep_for(2s);
  }
  /// Issue #11: every call sent kServeAgainWithin after the restarted broker printed READY succeeds (each
  /// has a generous timeout: what is asserted is that none is lost to a broker that does not know the server's
  /// subscription or cannot push the reply, not its latency).
  void expectEveryCallSucceedsSoonAfterReady(int n) {
    std::this_thread::sleep_for(kServeAgainWithin);
    std::vector<std::future<RpcResponse>> calls;
    for (int i = 0; i < n; ++i) calls.push_back(client_->sendAsync("again " + std::to_string(i), 20000ms));
    int ok = 0;
    std::string first_error;
    for (int i = 0; i < n; ++i) {
      ASSERT_EQ(calls[static_cast<size_t>(i)].wait_for(30s), std::future_status::ready);
      try {
        EXPECT_EQ(calls[static_cast<size_t>(i)].get().payload(), "again " + std::to_string(i));
        ++ok;
      } catch (const RpcException& e) {
        if (first_error.empty()) first_error = std::string(rpcErrorCodeName(e.code())) + ": " + e.what();
      }
    }
    EXPECT_EQ(ok, n) << "calls sent " << kServeAgainWithin.count() << " ms after READY failed; first: "
                     << first_error << "; server stats: " << toString(server_->stats())
                     << "; client stats: " << toString(client_->stats());
  }

  std::string store_, addr_, port_;
  std::unique_ptr<testing::Subprocess> broker_;
  std::shared_ptr<Echo> receiver_ = std::make_shared<Echo>();
  std::unique_ptr<RpcServer> server_;
  std::unique_ptr<RpcClient> client_;
};

TEST_F(BrokerRestartRpcIT, ClientAndServerRecoverAfterTheBrokerIsKilledAndRestarted) {
  startServerAndClient();

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
  // Both sides reconnect on their own: the server's pulls resume and its heartbeat (sent as soon as the broker
  // answers again, and at once on SUBSCRIPTION_NOT_EXIST) restores its subscription; the client's heartbeat
  // lets the broker push replies to it again. Before, 80 of 200 calls right after the restart timed out.
  expectEveryCallSucceedsSoonAfterReady(200);
  EXPECT_TRUE(server_->isStarted());
  EXPECT_GE(receiver_->calls.load(), 201);
}

// The requester sends nothing while the broker is down, so only the closed connection tells it the broker
// went away: it must heartbeat again by itself, or the broker (which maps client id -> channel from
// heartbeats only) cannot push it replies until its next periodic heartbeat (30 s).
TEST_F(BrokerRestartRpcIT, AnIdleClientGetsRepliesAgainSoonAfterTheBrokerRestarts) {
  startServerAndClient();
  broker_->signal(SIGKILL);
  ASSERT_TRUE(broker_->wait(10s).has_value());
  broker_.reset();
  restartBroker();
  expectEveryCallSucceedsSoonAfterReady(100);
}

}  // namespace
}  // namespace rocketrpc
