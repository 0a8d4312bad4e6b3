#include "client/message_sender.h"

#include <condition_variable>
#include <future>

#include "common/log.h"
#include "remoting/protocol/codes.h"
#include "remoting/protocol/message_codec.h"
#include "remoting/response_status.h"
#include "remoting/protocol/names.h"

namespace rocketrpc::client {

using remoting::RemotingCommand;
namespace rc = remoting::request_code;
namespace rs = remoting::response_code;

namespace {

constexpr const char* kLog = "producer";
constexpr size_t kMaxTopicLength = 127;

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool validName(const std::string& s) { return remoting::hasOnlyNameCharacters(s); }

/// The two bytes that delimit properties on the wire.
bool hasPropertySeparator(std::string_view s) {
  return s.find(remoting::kNameValueSeparator) != std::string_view::npos ||
         s.find(remoting::kPropertySeparator) != std::string_view::npos;
}

bool retriableResponse(int code) {
  switch (code) {
    case rs::kTopicNotExist:
    case rs::kServiceNotAvailable:
    case rs::kSystemError:
    case rs::kSystemBusy:
    case rs::kNoPermission:
    case rs::kNoBuyerId:
    case rs::kNotInCurrentUnit:
    case rs::kGoAway:
      return true;
    default:
      return false;
  }
}

bool retriable(const Status& st) {
  switch (st.code()) {
    case StatusCode::kNetwork:
    case StatusCode::kTimeout:
      return true;
    case StatusCode::kRemoteError:
      return retriableResponse(st.remoteCode());
    default:
      return false;
  }
}

std::chrono::milliseconds remaining(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left;
}

}  // namespace

// A message encoded once for all its attempts.
struct MessageSender::Prepared {
  std::string topic;
  std::string body;
  std::string properties;
  std::string uniq_id;
  int32_t sys_flag = 0;
  int32_t flag = 0;
  int32_t reconsume_times = 0;
  std::optional<int32_t> max_reconsume_times;
  int32_t code = rc::kSendMessageV2;
  bool batch = false;
  Message original;  // for selectors (empty without one)
};

MessageSender::MessageSender(std::shared_ptr<ClientInstance> instance, SenderConfig config)
    : instance_(std::move(instance)), config_(std::move(config)) {}

Status MessageSender::validate(const Message& msg) const {
  const std::string& t = msg.topic();
  if (t.empty()) return Status::invalidArgument("message topic is empty");
  if (t.size() > (t.rfind("%RETRY%", 0) == 0 ? 255 : kMaxTopicLength)) {
    return Status::invalidArgument("topic '" + t + "' is longer than 127 characters");
  }
  if (!validName(t)) return Status::invalidArgument("topic '" + t + "' has characters outside [%|a-zA-Z0-9_-]");
  if (msg.body().empty()) {  // as the Java client; Apache RocketMQ 5.x brokers fail on an empty body
    return Status::invalidArgument("message body is empty (RocketMQ messages need a body of at least one byte)");
  }
  if (msg.body().size() > config_.max_message_size) {
    return Status::invalidArgument("message body of " + std::to_string(msg.body().size()) +
                                   " bytes exceeds max_message_size " + std::to_string(config_.max_message_size));
  }
  for (const auto& [k, v] : msg.properties()) {
    if (hasPropertySeparator(k) || hasPropertySeparator(v)) {
      return Status::invalidArgument("property '" + k + "' contains a \\x01 or \\x02 byte");
    }
  }
  return Status::ok();
}

Result<std::shared_ptr<MessageSender::Prepared>> MessageSender::prepare(const Message& msg, bool keep_original,
                                                                      PropertyOverrides overrides) const {
  Status st = validate(msg);
  if (!st.isOk()) return st;
  for (const auto& [name, value] : overrides) {  // as validate() checks the message's own (the client id is one)
    if (hasPropertySeparator(name) || hasPropertySeparator(value)) {
      return Status::invalidArgument("property '" + std::string(name) + "' contains a \\x01 or \\x02 byte");
    }
  }
  auto p = std::make_shared<Prepared>();
  p->topic = msg.topic();
  p->flag = msg.flag();
  if (keep_original) {
    p->original = msg;
    for (const auto& [name, value] : overrides) p->original.putProperty(name, value);
  }
  // The message's properties as sent: its own, the overrides winning, and UNIQ_KEY when it has none. Read in
  // place; only the encoded text is built.
  const auto& own = msg.properties();
  auto effective = [&](std::string_view name) -> std::string_view {
    for (auto o = overrides.rbegin(); o != overrides.rend(); ++o) {  // the last of equal names wins
      if (o->first == name) return o->second;
    }
    auto it = own.find(name);
    return it == own.end() ? std::string_view() : std::string_view(it->second);
  };
  std::vector<std::pair<std::string_view, std::string_view>> added(overrides.begin(), overrides.end());
  if (std::string_view uniq = effective(property::kUniqClientMessageId); uniq.empty()) {
    p->uniq_id = remoting::createUniqId();
    added.emplace_back(property::kUniqClientMessageId, p->uniq_id);
  } else {
    p->uniq_id = uniq;
  }
  if (effective(property::kTransactionPrepared) == "true") {
    p->sys_flag |= remoting::sys_flag::kTransactionPrepared;
  }
  if (effective(property::kMessageType) == property::kReplyMessageFlag) p->code = rc::kSendReplyMessageV2;
  if (p->topic.rfind("%RETRY%", 0) == 0) {
    if (std::string_view v = effective(property::kReconsumeTime); !v.empty()) {
      p->reconsume_times = std::atoi(std::string(v).c_str());
    }
    if (std::string_view v = effective(property::kMaxReconsumeTimes); !v.empty()) {
      p->max_reconsume_times = std::atoi(std::string(v).c_str());
    }
  }
  p->properties = remoting::encodeProperties(own, added);
  if (p->properties.size() > remoting::kMaxPropertiesBytes) {
    return Status::invalidArgument("message properties take " + std::to_string(p->properties.size()) +
                                   " bytes, more than 32767");
  }
  std::optional<std::string> packed;
  if (msg.body().size() >= config_.compress_over) {
    packed = remoting::zlibCompressIfSmaller(msg.body(), config_.compress_level);
  }
  if (packed) {
    p->body = std::move(*packed);
    p->sys_flag |= remoting::sys_flag::kCompressed | remoting::sys_flag::kCompressionZlib;
  } else {
    p->body = msg.body();
  }
  return p;
}

void MessageSender::noteBrokerFailure(const std::string& broker_name) {
  std::lock_guard<std::mutex> lock(fault_mu_);
  broker_unavailable_until_[broker_name] = std::chrono::steady_clock::now() + std::chrono::seconds(3);
}

bool MessageSender::brokerRecentlyFailed(const std::string& broker_name) {
  std::lock_guard<std::mutex> lock(fault_mu_);
  auto it = broker_unavailable_until_.find(broker_name);
  if (it == broker_unavailable_until_.end()) return false;
  if (std::chrono::steady_clock::now() >= it->second) {
    broker_unavailable_until_.erase(it);
    return false;
  }
  return true;
}

Result<MessageQueue> MessageSender::pickQueue(const TopicPublishInfo& info, const std::string& topic,
                                              const Message& msg, const QueueChoice& choice,
                                              const std::string& last_failed) {
  if (choice.fixed) return *choice.fixed;
  if (info.queues.empty()) return Status::noRoute("no writable queue for topic " + topic);
  if (choice.selector) {
    static const std::any kNoArg;
    try {
      MessageQueue mq = choice.selector->select(info.queues, msg, choice.arg ? *choice.arg : kNoArg);
      return mq;
    } catch (const std::exception& e) {
      return Status::invalidArgument(std::string("message queue selector threw: ") + e.what());
    }
  }
  size_t n = info.queues.size();
  uint32_t start = send_index_.fetch_add(1);
  for (size_t i = 0; i < n; ++i) {
    const MessageQueue& mq = info.queues[(start + i) % n];
    if (!last_failed.empty() && mq.broker_name == last_failed) continue;
    if (brokerRecentlyFailed(mq.broker_name)) continue;
    return mq;
  }
  for (size_t i = 0; i < n; ++i) {
    const MessageQueue& mq = info.queues[(start + i) % n];
    if (mq.broker_name != last_failed) return mq;
  }
  return info.queues[start % n];
}

Result<SendResult> decodeSendResponse(const RemotingCommand& response, const MessageQueue& mq,
                                      const std::string& uniq_id) {
  SendResult r;
  switch (response.code) {
    case rs::kSuccess: r.status = SendStatus::kSendOk; break;
    case rs::kFlushDiskTimeout: r.status = SendStatus::kFlushDiskTimeout; break;
    case rs::kFlushSlaveTimeout: r.status = SendStatus::kFlushSlaveTimeout; break;
    case rs::kSlaveNotAvailable: r.status = SendStatus::kSlaveNotAvailable; break;
    default:
      return remoting::statusFromResponse(response, "SEND_MESSAGE to topic " + mq.topic + " (" + mq.broker_name +
                                                         "): broker refused the message (code " +
                                                         std::to_string(response.code) + "): " +
                                                         response.remarkOrEmpty());
  }
  r.msg_id = uniq_id;
  if (const auto* v = response.get("msgId")) r.offset_msg_id = *v;
  r.message_queue = mq;
  if (auto q = response.getInt("queueId")) r.message_queue.queue_id = static_cast<int32_t>(*q);
  r.queue_offset = response.getInt("queueOffset").value_or(0);
  return r;
}

namespace {

RemotingCommand buildSendCommand(int32_t code, const std::string& group, const std::string& topic,
                                 const SenderConfig& cfg, const MessageQueue& mq, int32_t sys_flag, int32_t flag,
                                 const std::string& properties, int32_t reconsume_times,
                                 std::optional<int32_t> max_reconsume, bool batch, std::string body) {
  auto cmd = RemotingCommand::request(code);
  cmd.set("a", group);
  cmd.set("b", topic);
  // An empty key (no default-topic fallback, RpcClient) still names TBW102 on the wire: brokers validate the
  // field as a topic name, and the topic exists whenever a route was found.
  cmd.set("c", cfg.create_topic_key.empty() ? std::string("TBW102") : cfg.create_topic_key);
  cmd.set("d", int64_t{cfg.default_topic_queue_nums});
  cmd.set("e", int64_t{mq.queue_id});
  cmd.set("f", int64_t{sys_flag});
  cmd.set("g", nowMs());
  cmd.set("h", int64_t{flag});
  if (!properties.empty()) cmd.set("i", properties);
  cmd.set("j", int64_t{reconsume_times});
  cmd.setBool("k", false);
  if (max_reconsume) cmd.set("l", int64_t{*max_reconsume});
  cmd.setBool("m", batch);
  cmd.set("n", mq.broker_name);
  cmd.body = std::move(body);
  return cmd;
}

}  // namespace

void MessageSender::attemptAsync(std::shared_ptr<Prepared> p, QueueChoice choice,
                                 std::chrono::steady_clock::time_point deadline, int attempts_left,
                                 std::string last_failed, SendDone done) {
  auto left = remaining(deadline);
  if (left.count() <= 0) {
    done(Status::timeout("send to topic " + p->topic + " timed out"));
    return;
  }
  auto info = instance_->publishInfo(p->topic, true, config_.create_topic_key, config_.default_topic_queue_nums);
  if (!info.isOk() && !choice.fixed) {
    done(info.status());
    return;
  }
  static const TopicPublishInfo kEmpty;
  auto mq = pickQueue(info.isOk() ? **info : kEmpty, p->topic, p->original, choice, last_failed);
  if (!mq.isOk()) {
    done(mq.status());
    return;
  }
  std::string addr = instance_->masterAddr(mq->broker_name);
  if (addr.empty()) {
    instance_->updateRoute(p->topic);
    addr = instance_->masterAddr(mq->broker_name);
  }
  if (addr.empty()) {
    done(Status::noRoute("no master address for broker " + mq->broker_name + " of topic " + p->topic));
    return;
  }
  // The last attempt takes the body instead of copying it (attempts of one message run one after another).
  auto cmd = buildSendCommand(p->code, config_.group, p->topic, config_, *mq, p->sys_flag, p->flag, p->properties,
                              p->reconsume_times, p->max_reconsume_times, p->batch,
                              attempts_left <= 1 ? std::move(p->body) : std::string(p->body));
  MessageQueue queue = *mq;
  instance_->remoting().invokeAsync(
      addr, std::move(cmd), left,
      [this, self = shared_from_this(), p, choice, deadline, attempts_left, queue, addr, done = std::move(done)](Result<RemotingCommand> r) mutable {
        Result<SendResult> result = r.isOk() ? decodeSendResponse(*r, queue, p->uniq_id) : Result<SendResult>(r.status());
        if (result.isOk()) {
          done(std::move(result));
          return;
        }
        Status st = result.status().withContext("send to " + queue.broker_name + " (" + addr + ")");
        if (st.code() == StatusCode::kNetwork) noteBrokerFailure(queue.broker_name);
        bool can_retry = attempts_left > 1 && retriable(st) && !choice.fixed && !choice.selector &&
                         remaining(deadline).count() > 0;
        if (!can_retry) {
          done(std::move(st));
          return;
        }
        RRPC_LOG(kDebug, kLog, "{}; retrying on another broker", st.toString());
        // Retry off the I/O thread: the route lookup may block. The done callback is shared so that a refused
        // post (instance shutting down) can still complete the send.
        auto shared_done = std::make_shared<SendDone>(std::move(done));
        bool posted = instance_->servicePool().post([this, self, p, choice, deadline, attempts_left, queue, shared_done] {
          attemptAsync(p, choice, deadline, attempts_left - 1, queue.broker_name, std::move(*shared_done));
        });
        if (!posted) (*shared_done)(st.withContext("not retried: the client is shutting down"));
      });
}

void MessageSender::sendAsync(const Message& msg, const QueueChoice& choice, std::chrono::milliseconds timeout,
                              SendDone done, PropertyOverrides overrides) {
  auto p = prepare(msg, choice.selector != nullptr, overrides);
  if (!p.isOk()) {
    done(p.status());
    return;
  }
  // Copy what the choice points to: the caller's objects may be gone when a retry runs.
  auto fixed = choice.fixed ? std::make_shared<MessageQueue>(*choice.fixed) : nullptr;
  QueueChoice c = choice;
  c.fixed = fixed.get();
  int attempts = 1 + ((choice.fixed || choice.selector) ? 0 : config_.retry_times_async);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  // Only a fixed queue needs keeping alive with the send (one closure less per send without one).
  SendDone wrapped = fixed ? SendDone([fixed, done = std::move(done)](Result<SendResult> r) { done(std::move(r)); })
                           : std::move(done);
  if (!choice.selector && !instance_->cachedPublishInfo((*p)->topic)) {
    // The first send to a topic fetches its route (and maybe the default topic's) from the name servers: do it
    // on the service thread, not on the caller's, which an asynchronous send must not block. The deadline
    // still counts from now.
    auto shared_done = std::make_shared<SendDone>(std::move(wrapped));
    bool posted = instance_->servicePool().post(
        [self = shared_from_this(), p = *p, c, deadline, attempts, shared_done] {
          self->attemptAsync(p, c, deadline, attempts, {}, std::move(*shared_done));
        });
    if (!posted) (*shared_done)(Status::closed("send to topic " + (*p)->topic + ": the client is shutting down"));
    return;
  }
  attemptAsync(*p, c, deadline, attempts, {}, std::move(wrapped));
}

Result<SendResult> MessageSender::sendSync(const Message& msg, const QueueChoice& choice,
                                           std::chrono::milliseconds timeout) {
  auto p = prepare(msg, choice.selector != nullptr);
  if (!p.isOk()) return p.status();
  int attempts = 1 + ((choice.fixed || choice.selector) ? 0 : config_.retry_times);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::promise<Result<SendResult>> promise;
  auto future = promise.get_future();
  // The selector and queue outlive this call because we wait for completion below.
  attemptAsync(*p, choice, deadline, attempts, {},
               [&promise](Result<SendResult> r) { promise.set_value(std::move(r)); });
  return future.get();
}

Status MessageSender::sendOneway(const Message& msg, const QueueChoice& choice, std::chrono::milliseconds timeout) {
  auto p = prepare(msg, choice.selector != nullptr);
  if (!p.isOk()) return p.status();
  auto& pp = *p;
  auto info = instance_->publishInfo(pp->topic, true, config_.create_topic_key, config_.default_topic_queue_nums);
  if (!info.isOk() && !choice.fixed) return info.status();
  static const TopicPublishInfo kEmpty;
  auto mq = pickQueue(info.isOk() ? **info : kEmpty, pp->topic, pp->original, choice, {});
  if (!mq.isOk()) return mq.status();
  std::string addr = instance_->masterAddr(mq->broker_name);
  if (addr.empty()) return Status::noRoute("no master address for broker " + mq->broker_name);
  auto cmd = buildSendCommand(pp->code, config_.group, pp->topic, config_, *mq, pp->sys_flag, pp->flag,
                              pp->properties, pp->reconsume_times, pp->max_reconsume_times, false, pp->body);
  return instance_->remoting().invokeOneway(addr, std::move(cmd), timeout);
}

Result<SendResult> MessageSender::sendBatch(const std::vector<Message>& msgs, const MessageQueue* mq,
                                            std::chrono::milliseconds timeout) {
  if (msgs.empty()) return Status::invalidArgument("batch is empty");
  const std::string& topic = msgs.front().topic();
  std::vector<Message> copies;
  copies.reserve(msgs.size());
  std::string ids;
  for (const auto& m : msgs) {
    Status st = validate(m);
    if (!st.isOk()) return st;
    if (m.topic() != topic) return Status::invalidArgument("all messages of a batch must have the same topic");
    if (m.delayTimeLevel() > 0) return Status::invalidArgument("batch messages cannot be delayed");
    if (topic.rfind("%RETRY%", 0) == 0) return Status::invalidArgument("batch to a retry topic is not supported");
    Message c = m;
    std::string id = c.getProperty(property::kUniqClientMessageId);
    if (id.empty()) {
      id = remoting::createUniqId();
      c.putProperty(property::kUniqClientMessageId, id);
    }
    if (!ids.empty()) ids += ',';
    ids += id;
    copies.push_back(std::move(c));
  }
  std::string body = remoting::encodeBatch(copies);
  if (body.size() > config_.max_message_size) {
    return Status::invalidArgument("batch of " + std::to_string(body.size()) + " bytes exceeds max_message_size");
  }
  auto p = std::make_shared<Prepared>();
  p->topic = topic;
  p->body = std::move(body);
  p->uniq_id = ids;
  p->code = rc::kSendBatchMessage;
  p->batch = true;
  p->original = msgs.front();
  remoting::Properties batch_props;
  batch_props[std::string(property::kWaitStoreMsgOk)] = msgs.front().waitStoreMsgOk() ? "true" : "false";
  p->properties = remoting::encodeProperties(batch_props);
  QueueChoice choice;
  choice.fixed = mq;
  int attempts = 1 + (mq ? 0 : config_.retry_times);
  std::promise<Result<SendResult>> promise;
  auto future = promise.get_future();
  attemptAsync(p, choice, std::chrono::steady_clock::now() + timeout, attempts, {},
               [&promise](Result<SendResult> r) { promise.set_value(std::move(r)); });
  auto r = future.get();
  if (r.isOk()) r->msg_id = ids;
  return r;
}

}  // namespace rocketrpc::client
