// BrokerContext: what the request processors share. Owned (through shared_ptr) by BrokerServer and by every
// registered handler; BrokerServer::shutdown() stops the server before tearing these down. Members are
// thread-safe themselves; the struct is immutable after BrokerServer::start().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/broker_config.h"
#include "broker/broker_metrics.h"
#include "broker/client_manager.h"
#include "broker/subscription_group_manager.h"
#include "broker/topic_config_manager.h"
#include "common/executor.h"
#include "remoting/protocol/codes.h"
#include "remoting/transport.h"
#include "store/message_store.h"

namespace rocketrpc::broker {

class PullRequestHoldService;

inline constexpr int32_t kBrokerVersion = 409;  // MQVersion V4_9_8, reported in heartbeat responses

/// The header encoding each client connection last used for a send; requests the broker pushes to that
/// connection (PUSH_REPLY_MESSAGE_TO_CLIENT) use the same, so a client writing the binary ROCKETMQ header gets
/// pushes it decodes cheaply, and a JSON-only client keeps getting JSON. Thread-safe.
class ChannelEncodings {
 public:
  void note(const std::string& channel, remoting::SerializeType type) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = types_.find(channel);
    if (it == types_.end()) {
      types_.emplace(channel, type);
    } else {
      it->second = type;
    }
  }
  /// kJson for a connection that never sent.
  remoting::SerializeType of(const std::string& channel) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = types_.find(channel);
    return it == types_.end() ? remoting::SerializeType::kJson : it->second;
  }
  void forget(const std::string& channel) {
    std::lock_guard<std::mutex> lock(mu_);
    types_.erase(channel);
  }

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, remoting::SerializeType> types_;  // guarded by mu_
};

struct BrokerContext {
  BrokerConfig config;
  std::string broker_addr;  // brokerIP1:port, also the STOREHOST of stored messages
  std::vector<int64_t> delay_levels_ms;
  std::function<int64_t()> clock;

  std::shared_ptr<store::MessageStore> store;
  std::unique_ptr<TopicConfigManager> topics;
  std::unique_ptr<SubscriptionGroupManager> groups;
  ClientManager clients;
  RebalanceLockManager locks;
  BrokerMetrics metrics;
  ChannelEncodings encodings;
  remoting::RemotingServer* server = nullptr;          // owned by BrokerServer
  ThreadPool* workers = nullptr;                       // owned by BrokerServer
  PullRequestHoldService* pull_holds = nullptr;        // owned by BrokerServer

  int64_t now() const { return clock(); }
  /// Runs `task` on the worker pool (inline when the pool is shut down: the server is stopping).
  void post(std::function<void()> task) const {
    if (!workers->post(task)) task();
  }
  /// Before a request's work is posted to the worker pool: when workerQueueCapacity tasks already wait there,
  /// answers SYSTEM_BUSY with Apache's "[OVERLOAD]" text, counts it and returns true (do not post). The check
  /// and the post are not atomic: the queue can pass the capacity by one task per I/O thread.
  bool refuseIfOverloaded(const remoting::RemotingCommand& request, const remoting::Responder& responder) {
    if (workers->queued() < static_cast<size_t>(config.worker_queue_capacity)) return false;
    metrics.requests_refused_overload.fetch_add(1, std::memory_order_relaxed);
    responder.respond(remoting::RemotingCommand::responseTo(
        request, remoting::response_code::kSystemBusy, "[OVERLOAD]system busy, start flow control for a while"));
    return true;
  }
};

}  // namespace rocketrpc::broker
