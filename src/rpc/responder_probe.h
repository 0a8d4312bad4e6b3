// ResponderProbe: answers "is any consumer group online on the request topic?" so that requests fail fast
// with kNoResponder instead of waiting out their timeout (docs/design/rpc.md, "Fail fast").
//
// The broker query (queryResponders) asks one broker serving the topic, through client::AdminClient over the
// client instance's connections:
//   QUERY_TOPIC_CONSUME_BY_WHO (300, header topic)        -> {"groupList":[...]}: groups subscribed to the
//   topic
//                                                           while online, plus groups with committed offsets
//   GET_CONSUMER_CONNECTION_LIST (203, header consumerGroup) -> connections + subscriptions of an online
//   group,
//                                                           or CONSUMER_NOT_ONLINE (206)
// The topic has a responder when some group has at least one connection and subscribes to the topic. Anything
// the broker cannot tell (no route yet, request code not supported, network error) is kUnknown, and callers
// then send anyway: the check only ever fails fast on a definite "no".
//
// The verdict is cached for a short time; concurrent callers of check() share one query. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace rocketrpc::client {
class ClientInstance;
}

namespace rocketrpc::rpc {

class ResponderProbe {
 public:
  enum class Answer { kOnline, kNone, kUnknown };
  struct Verdict {
    Answer answer = Answer::kUnknown;
    std::string detail;  // for kNone / kUnknown: why
  };
  using Query = std::function<Verdict()>;
  using Clock = std::chrono::steady_clock;

  ResponderProbe(Query query, std::chrono::milliseconds ttl);

  /// The cached verdict when younger than the TTL, else nullopt. Never blocks on I/O.
  std::optional<Verdict> cached() const;
  /// The cached verdict, or a new one (blocking for the query; one query at a time).
  Verdict check();
  /// Number of broker queries made (for tests and stats).
  uint64_t queries() const;

 private:
  Query query_;
  const std::chrono::milliseconds ttl_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool querying_ = false;
  std::optional<Verdict> verdict_;
  Clock::time_point at_;
  uint64_t generation_ = 0;
  uint64_t queries_ = 0;
};

/// The broker query described above, over `instance`'s connections. Blocks up to about 2 x `timeout`.
ResponderProbe::Verdict queryResponders(client::ClientInstance& instance, const std::string& topic,
                                        std::chrono::milliseconds timeout);

}  // namespace rocketrpc::rpc
