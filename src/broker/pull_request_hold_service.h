// PullRequestHoldService: long polling (protocol reference 7.1). A pull that found nothing is parked here
// until a message arrives on its topic/queue (the store's arrival listener wakes it, no polling) or its
// hold time passes. A pull waiting for exactly the message that arrived (and whose filter accepts it) is
// answered at once from the record the store hands to the listener, on the writing thread: no store read,
// no thread hand-off. Other woken pulls, and expired ones, are re-executed once without suspension on the
// worker pool. Hold deadlines are kept by one timer thread that is only woken when a new deadline is earlier
// than the one it sleeps until (hold times are equal, so in steady state parking and waking a pull wakes
// no thread). Bounds: hold times are clamped by the caller (maxPullHoldTimeMills), at most
// maxPullHoldsPerConnection pulls are held per connection, and a connection's holds are dropped when it
// closes (nobody is left to answer). Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "remoting/transport.h"
#include "store/message_store.h"

namespace rocketrpc::broker {

struct BrokerContext;

class PullRequestHoldService : public store::MessageArrivedListener {
 public:
  /// `replay` re-executes a woken pull without suspension (called on a worker, or inline when stopping).
  using Replay = std::function<void(remoting::RemotingCommand, remoting::Responder)>;
  /// `answer` answers a held pull with the one message that just arrived (called on the writing thread).
  using Answer = std::function<void(const remoting::RemotingCommand& request, const remoting::Responder& responder,
                                    const store::ArrivedMessage& msg)>;
  PullRequestHoldService(std::shared_ptr<BrokerContext> ctx, Replay replay, Answer answer);
  ~PullRequestHoldService() override;

  /// Parks a pull of topic/queue that asked for `offset`, for at most `hold_ms`. `filter` (empty: accept all)
  /// decides whether an arriving message may answer it directly. False (nothing taken, the caller answers)
  /// when the connection already has `max_per_connection` pulls held.
  bool hold(const std::string& topic, int32_t queue_id, int64_t offset, remoting::RemotingCommand request,
            remoting::Responder responder, int64_t hold_ms, store::TagsFilter filter);
  /// Drops (without answering) every pull held for the connection `channel` ("host:port"), which closed.
  void onConnectionClosed(const std::string& channel);
  void onMessageArrived(const store::ArrivedMessage& msg) override;
  /// Answers every parked pull (re-executed once) and stops the timer thread. Idempotent.
  void shutdown();
  size_t holding() const;
  /// Pulls held for `channel`.
  size_t holding(const std::string& channel) const;

 private:
  using Clock = std::chrono::steady_clock;
  using Key = std::pair<std::string, int32_t>;
  struct Held {
    uint64_t id;
    int64_t offset;
    remoting::RemotingCommand request;
    remoting::Responder responder;
    store::TagsFilter filter;
    Clock::time_point deadline;
    std::string channel;  // responder.remoteAddress()
    Clock::time_point held_at;  // for rocketrpc_broker_pull_hold_seconds
  };
  // Removes `h` from deadlines_ and from its connection's count (mu_ held).
  void forgetDeadlineLocked(const Held& h);
  // Takes `h` off its connection's count (mu_ held).
  void releaseChannelLocked(const Held& h);
  void replayLater(Held h);
  void timerLoop();

  std::shared_ptr<BrokerContext> ctx_;
  Replay replay_;
  Answer answer_;
  mutable std::mutex mu_;
  std::condition_variable timer_cv_;
  std::map<Key, std::vector<Held>> held_;                      // guarded by mu_
  std::set<std::pair<Clock::time_point, uint64_t>> deadlines_;  // guarded by mu_: (deadline, id) of held_
  std::map<uint64_t, Key> keys_;                               // guarded by mu_: id -> its held_ list
  std::map<std::string, size_t> per_channel_;                  // guarded by mu_: held pulls per connection
  const size_t max_per_connection_;
  Clock::time_point timer_wakes_at_ = Clock::time_point::max();  // guarded by mu_
  uint64_t next_id_ = 1;                                       // guarded by mu_
  bool stopped_ = false;                                       // guarded by mu_
  std::thread timer_;
};

}  // namespace rocketrpc::broker
