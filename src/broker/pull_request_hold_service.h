// PullRequestHoldService: long polling (protocol reference 7.1). A pull that found nothing is parked here
// until a message arrives on its topic/queue (the store's arrival listener wakes it, no polling) or its
// hold time passes (a timer per parked pull); then it is re-executed once without suspension, on the worker
// pool. Thread-safe; the arrival callback only moves entries and posts work.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/executor.h"
#include "remoting/transport.h"
#include "store/message_store.h"

namespace rocketrpc::broker {

struct BrokerContext;

class PullRequestHoldService : public store::MessageArrivedListener {
 public:
  /// `replay` re-executes a woken pull without suspension.
  using Replay = std::function<void(remoting::RemotingCommand, remoting::Responder)>;
  PullRequestHoldService(std::shared_ptr<BrokerContext> ctx, Replay replay);
  ~PullRequestHoldService() override;

  /// Parks a pull of topic/queue that asked for `offset`, for at most `hold_ms`.
  void hold(const std::string& topic, int32_t queue_id, int64_t offset, remoting::RemotingCommand request,
            remoting::Responder responder, int64_t hold_ms);
  void onMessageArrived(const std::string& topic, int32_t queue_id, int64_t queue_offset, int64_t tags_code) override;
  /// Answers every parked pull (re-executed once) and stops the timers.
  void shutdown();
  size_t holding() const;

 private:
  struct Held {
    uint64_t id;
    int64_t offset;
    remoting::RemotingCommand request;
    remoting::Responder responder;
    Scheduler::TaskId timer = 0;
  };
  using Key = std::pair<std::string, int32_t>;
  void wake(std::vector<Held> woken);
  void expire(const Key& key, uint64_t id);

  std::shared_ptr<BrokerContext> ctx_;
  Replay replay_;
  Scheduler timers_{"broker-pull-hold"};
  mutable std::mutex mu_;
  std::map<Key, std::vector<Held>> held_;  // guarded by mu_
  uint64_t next_id_ = 1;                   // guarded by mu_
  bool stopped_ = false;                   // guarded by mu_
};

}  // namespace rocketrpc::broker
