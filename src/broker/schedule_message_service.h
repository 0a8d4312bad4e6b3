// ScheduleMessageService: delivery of delayed messages (protocol reference 7.2). A message with DELAY=n is
// stored in SCHEDULE_TOPIC_XXXX queue n-1 with REAL_TOPIC/REAL_QID (see prepareDelay); a timer checks each
// level's queue head every 100 ms and re-puts messages whose store time + level delay has passed into their
// real topic, advancing a per-level offset kept in the consumer offset table under group
// "%SCHEDULE_DELAY%" (persisted with the other offsets). Delivery is at-least-once across crashes.
// Thread-safe; all work runs on its own timer thread.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/executor.h"
#include "rocketrpc/message.h"

namespace rocketrpc::broker {

struct BrokerContext;

inline constexpr const char* kScheduleOffsetGroup = "%SCHEDULE_DELAY%";

/// If `msg` carries DELAY > 0, moves it to SCHEDULE_TOPIC_XXXX (level clamped to the configured levels),
/// saving the real topic and queue in REAL_TOPIC / REAL_QID. Returns true when moved.
bool prepareDelay(MessageExt& msg, size_t level_count);

class ScheduleMessageService {
 public:
  explicit ScheduleMessageService(std::shared_ptr<BrokerContext> ctx);
  ~ScheduleMessageService();
  void start();
  void shutdown();
  /// One pass over every level (the timer's body; public for tests).
  void deliverDue();

 private:
  std::shared_ptr<BrokerContext> ctx_;
  Scheduler timer_{"broker-schedule"};
  bool started_ = false;
};

}  // namespace rocketrpc::broker
