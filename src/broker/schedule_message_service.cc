#include "broker/schedule_message_service.h"

#include <algorithm>
#include <string>

#include "broker/broker_context.h"
#include "common/log.h"
#include "remoting/protocol/message_codec.h"

namespace rocketrpc::broker {

bool prepareDelay(MessageExt& msg, size_t level_count) {
  int level = msg.delayTimeLevel();
  if (level <= 0 || level_count == 0) return false;
  if ((msg.sysFlag() & remoting::sys_flag::kTransactionRollback) == remoting::sys_flag::kTransactionPrepared)
    return false;
  level = std::min<int>(level, static_cast<int>(level_count));
  msg.putProperty(property::kRealTopic, msg.topic());
  msg.putProperty(property::kRealQueueId, std::to_string(msg.queueId()));
  msg.setTopic(std::string(kScheduleTopic));
  msg.setQueueId(level - 1);
  return true;
}

ScheduleMessageService::ScheduleMessageService(std::shared_ptr<BrokerContext> ctx) : ctx_(std::move(ctx)) {}

ScheduleMessageService::~ScheduleMessageService() { shutdown(); }

void ScheduleMessageService::start() {
  if (started_) return;
  started_ = true;
  timer_.scheduleRepeating(std::chrono::milliseconds(100), std::chrono::milliseconds(100), [this] { deliverDue(); });
}

void ScheduleMessageService::shutdown() { timer_.shutdown(); }

void ScheduleMessageService::deliverDue() {
  const std::string topic(kScheduleTopic);
  auto& offsets = ctx_->store->consumerOffsets();
  for (size_t i = 0; i < ctx_->delay_levels_ms.size(); ++i) {
    const auto queue_id = static_cast<int32_t>(i);
    int64_t offset = offsets.get(kScheduleOffsetGroup, topic, queue_id).value_or(0);
    offset = std::max(offset, ctx_->store->minOffset(topic, queue_id));
    if (offset >= ctx_->store->maxOffset(topic, queue_id)) continue;
    auto got = ctx_->store->getMessages(topic, queue_id, offset, 32, 4 * 1024 * 1024);
    if (!got.isOk() || got->status != store::GetMessageStatus::kFound) {
      if (got.isOk() && got->next_begin_offset > offset) offsets.set(kScheduleOffsetGroup, topic, queue_id, got->next_begin_offset);
      continue;
    }
    auto msgs = remoting::decodeStoredMessages(got->data, /*decompress=*/false);
    if (!msgs.isOk()) {
      RRPC_LOG(kError, "broker", "schedule level {}: undecodable messages at {}: {}", i + 1, offset,
               msgs.status().toString());
      offsets.set(kScheduleOffsetGroup, topic, queue_id, got->next_begin_offset);
      continue;
    }
    const int64_t now = ctx_->now();
    for (auto& m : *msgs) {
      if (m.storeTimestamp() + ctx_->delay_levels_ms[i] > now) break;
      MessageExt out = m;
      out.setTopic(m.getProperty(property::kRealTopic));
      int32_t qid = 0;
      try {
        qid = std::stoi(m.getProperty(property::kRealQueueId));
      } catch (const std::exception&) {
      }
      out.setQueueId(qid);
      out.clearProperty(property::kRealTopic);
      out.clearProperty(property::kRealQueueId);
      out.clearProperty(property::kDelayTimeLevel);
      out.setStoreHost(ctx_->broker_addr);
      if (out.topic().empty()) {
        RRPC_LOG(kError, "broker", "delayed message {} has no REAL_TOPIC; dropped", m.offsetMsgId());
      } else {
        auto put = ctx_->store->putMessage(std::move(out));
        if (!put.isOk()) {
          RRPC_LOG(kWarn, "broker", "delayed delivery failed, will retry: {}", put.status().toString());
          break;
        }
        ctx_->metrics.messages_delayed.fetch_add(1, std::memory_order_relaxed);
      }
      offset = m.queueOffset() + 1;
      offsets.set(kScheduleOffsetGroup, topic, queue_id, offset);
    }
  }
}

}  // namespace rocketrpc::broker
