#include "support/test_broker.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>

#include "broker/broker_config.h"
#include "broker/broker_server.h"
#include "support/subprocess.h"
#include "support/test_support.h"

namespace rocketrpc::testing {

namespace {

std::string envString(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string makeTempDir() {
  std::string base = envString("TMPDIR");
  if (base.empty()) base = "/tmp";
  std::string pattern = base + "/rocketrpc-test-broker-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) return {};
  return pattern;
}

// Owns the broker of this process. Torn down by a gtest Environment after the last test (not by a static
// destructor: the broker's threads log, and logging must still exist when they stop).
class TestBroker {
 public:
  static TestBroker& instance() {
    static TestBroker* broker = new TestBroker;  // intentionally leaked; stop() releases the resources
    return *broker;
  }

  std::string namesrv() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_) {
      started_ = true;
      start();
    }
    return namesrv_;
  }

  void stop() {
    std::lock_guard<std::mutex> lock(mu_);
    if (server_) {
      server_->shutdown();
      server_.reset();
    }
    if (process_) {
      process_->signal(SIGTERM);
      if (!process_->wait(std::chrono::seconds(20))) std::cerr << "test broker: did not stop on SIGTERM\n";
      process_.reset();
    }
    if (!store_dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(store_dir_, ec);
      store_dir_.clear();
    }
  }

 private:
  void start() {
    const std::string mode = testBrokerMode();
    if (mode == "none" || mode == "external") return;
    store_dir_ = makeTempDir();
    if (store_dir_.empty()) {
      std::cerr << "test broker: cannot create a temporary directory\n";
      return;
    }
    if (mode == "inprocess") {
      broker::BrokerConfig config;
      config.listen_host = "127.0.0.1";
      config.broker_ip1 = "127.0.0.1";
      config.listen_port = 0;
      config.store_path_root_dir = store_dir_;
      // Two I/O threads whatever the machine, so frames crossing between loops are exercised (the sanitizer
      // stages run in-process); the binary stage keeps the default.
      config.server_selector_threads = 2;
      relaxDiskLimits(config);
      server_ = std::make_unique<broker::BrokerServer>(config);
      if (Status s = server_->start(); !s.isOk()) {
        std::cerr << "test broker: in-process rocketrpc-broker failed to start: " << s.toString() << "\n";
        server_->shutdown();
        server_.reset();
        return;
      }
      namesrv_ = server_->address();
      return;
    }
    if (mode == "binary") {
      process_ = startBrokerBinary(
          {"--port", "0", "--store", store_dir_}, &namesrv_);
      return;
    }
    std::cerr << "test broker: unknown ROCKETRPC_TEST_BROKER=" << mode << " (inprocess, binary or none)\n";
  }

  std::mutex mu_;
  bool started_ = false;
  std::string namesrv_;
  std::string store_dir_;
  std::unique_ptr<broker::BrokerServer> server_;
  std::unique_ptr<Subprocess> process_;
};

class TestBrokerEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { TestBroker::instance().stop(); }
};

[[maybe_unused]] ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new TestBrokerEnvironment);

}  // namespace

std::string brokerBinaryPath() {
  std::string bin = envString("ROCKETRPC_BROKER_BIN");
  if (!bin.empty()) return bin;
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "rocketrpc-broker" : (self.parent_path().parent_path() / "tools" / "rocketrpc-broker").string();
}

namespace {
constexpr int64_t kRelaxedWarningRatio = 99;
constexpr int64_t kRelaxedMaxUsedRatio = 95;
}  // namespace

void relaxDiskLimits(broker::BrokerConfig& config) {
  config.disk_space_warning_level_ratio = kRelaxedWarningRatio;
  config.disk_max_used_space_ratio = kRelaxedMaxUsedRatio;
}

std::vector<std::string> relaxedDiskArgs() {
  return {"--set", "diskSpaceWarningLevelRatio=" + std::to_string(kRelaxedWarningRatio), "--set",
          "diskMaxUsedSpaceRatio=" + std::to_string(kRelaxedMaxUsedRatio)};
}

std::unique_ptr<Subprocess> startBrokerBinary(const std::vector<std::string>& args, std::string* addr) {
  // As relaxDiskLimits; a test's own --set of either key comes later and wins.
  std::vector<std::string> argv{brokerBinaryPath()};
  for (const std::string& arg : relaxedDiskArgs()) argv.push_back(arg);
  argv.insert(argv.end(), args.begin(), args.end());
  std::unique_ptr<Subprocess> process;
  try {
    process = std::make_unique<Subprocess>(argv);
  } catch (const std::exception& e) {
    std::cerr << "test broker: cannot start " << argv[0] << ": " << e.what() << "\n";
    return nullptr;
  }
  while (auto line = process->readLine(std::chrono::seconds(60))) {
    if (line->rfind("READY ", 0) == 0) {
      *addr = line->substr(6);
      return process;
    }
  }
  std::cerr << "test broker: " << argv[0] << " never printed READY\n";
  return nullptr;
}

std::string testBrokerMode() {
  if (!envString("ROCKETRPC_TEST_NAMESRV").empty()) return "external";
  std::string mode = envString("ROCKETRPC_TEST_BROKER");
  return mode.empty() ? "inprocess" : mode;
}

std::string testBrokerNamesrv() {
  if (std::string external = envString("ROCKETRPC_TEST_NAMESRV"); !external.empty()) return external;
  return TestBroker::instance().namesrv();
}

OwnBrokerTest::OwnBrokerTest(std::string name) : name_(std::move(name)) {}

void OwnBrokerTest::SetUp() {
  dir_ = std::filesystem::temp_directory_path() / uniqueName(name_);
  startBroker();
}

void OwnBrokerTest::TearDown() {
  if (server_) server_->shutdown();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void OwnBrokerTest::startBroker() {
  broker::BrokerConfig config;
  relaxDiskLimits(config);
  config.listen_port = 0;
  config.store_path_root_dir = dir_.string();
  configure(config);
  config_ = config;
  server_ = std::make_unique<broker::BrokerServer>(config);
  ASSERT_TRUE(server_->start().isOk());
  addr_ = server_->address();
}

}  // namespace rocketrpc::testing
