#include "support/test_support.h"

#include "support/test_broker.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <random>
#include <thread>

namespace rocketrpc::testing {

std::string uniqueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  static const unsigned salt = std::random_device{}();
  return prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
         std::to_string(salt % 100000);
}

std::string testNamesrv() { return testBrokerNamesrv(); }

bool waitUntil(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() >= deadline) return cond();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace rocketrpc::testing
