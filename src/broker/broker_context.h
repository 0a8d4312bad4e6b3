// BrokerContext: what the request processors share. Owned (through shared_ptr) by BrokerServer and by every
// registered handler; BrokerServer::shutdown() stops the server before tearing these down. Members are
// thread-safe themselves; the struct is immutable after BrokerServer::start().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "broker/broker_config.h"
#include "broker/broker_metrics.h"
#include "broker/client_manager.h"
#include "broker/topic_config_manager.h"
#include "common/executor.h"
#include "remoting/transport.h"
#include "store/message_store.h"

namespace rocketrpc::broker {

class PullRequestHoldService;

inline constexpr int32_t kBrokerVersion = 409;  // MQVersion V4_9_8, reported in heartbeat responses

struct BrokerContext {
  BrokerConfig config;
  std::string broker_addr;  // brokerIP1:port, also the STOREHOST of stored messages
  std::vector<int64_t> delay_levels_ms;
  std::function<int64_t()> clock;

  std::shared_ptr<store::MessageStore> store;
  std::unique_ptr<TopicConfigManager> topics;
  ClientManager clients;
  RebalanceLockManager locks;
  BrokerMetrics metrics;
  remoting::RemotingServer* server = nullptr;          // owned by BrokerServer
  ThreadPool* workers = nullptr;                       // owned by BrokerServer
  PullRequestHoldService* pull_holds = nullptr;        // owned by BrokerServer

  int64_t now() const { return clock(); }
  /// Runs `task` on the worker pool (inline when the pool is shut down: the server is stopping).
  void post(std::function<void()> task) const {
    if (!workers->post(task)) task();
  }
};

}  // namespace rocketrpc::broker
