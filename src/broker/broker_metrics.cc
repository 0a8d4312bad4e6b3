#include "broker/broker_metrics.h"

#include <fmt/format.h>

#include <mutex>

#include "remoting/protocol/code_names.h"
#include "store/message_store.h"

namespace rocketrpc::broker {

void RateSampler::sample(int64_t now_ms, const Values& values) {
  std::lock_guard<std::mutex> lock(mu_);
  samples_.push_back(Sample{now_ms, values});
  while (samples_.size() > 2 && samples_.front().at_ms < now_ms - 600'000 - 1'000) samples_.pop_front();
}

std::string RateSampler::rates(size_t index) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (int64_t window_ms : {10'000, 60'000, 600'000}) {
    double rate = 0.0;
    if (samples_.size() >= 2 && index < kCounters) {
      const Sample& last = samples_.back();
      // The newest sample at least `window_ms` old, else the oldest one.
      const Sample* from = &samples_.front();
      for (auto it = samples_.rbegin(); it != samples_.rend(); ++it) {
        if (last.at_ms - it->at_ms >= window_ms) {
          from = &*it;
          break;
        }
      }
      const int64_t span = last.at_ms - from->at_ms;
      if (span > 0) rate = static_cast<double>(last.values[index] - from->values[index]) * 1000.0 / span;
    }
    if (!out.empty()) out += ' ';
    out += fmt::format("{:.2f}", rate);
  }
  return out;
}

void BrokerMetrics::sampleRates(int64_t now_ms) {
  const int64_t in = messages_in.load(std::memory_order_relaxed);
  const int64_t out = messages_out.load(std::memory_order_relaxed);
  rates.sample(now_ms, {in, out, pull_requests.load(std::memory_order_relaxed)});
  const int64_t day = now_ms / 86'400'000;
  std::lock_guard<std::mutex> lock(day_mu_);
  if (day_ < 0) {
    day_ = day;  // boot: totals start at 0 for today
    return;
  }
  if (day == day_) return;
  day_totals_.put_yesterday_morning = day == day_ + 1 ? day_totals_.put_today_morning : in;
  day_totals_.get_yesterday_morning = day == day_ + 1 ? day_totals_.get_today_morning : out;
  day_totals_.put_today_morning = in;
  day_totals_.get_today_morning = out;
  day_ = day;
}

TopicTraffic::Counters& TopicTraffic::find(std::string_view topic) {
  {
    std::shared_lock lock(mu_);
    auto it = topics_.find(topic);
    if (it != topics_.end()) return *it->second;
    if (topics_.size() >= max_topics_.load(std::memory_order_relaxed)) {
      other_used_.store(true, std::memory_order_relaxed);
      return other_;
    }
  }
  std::unique_lock lock(mu_);
  auto it = topics_.find(topic);
  if (it != topics_.end()) return *it->second;
  if (topics_.size() >= max_topics_.load(std::memory_order_relaxed)) {
    other_used_.store(true, std::memory_order_relaxed);
    return other_;
  }
  return *topics_.emplace(std::string(topic), std::make_unique<Counters>()).first->second;
}

void TopicTraffic::addIn(std::string_view topic, int64_t messages, int64_t bytes) {
  Counters& c = find(topic);
  c.messages_in.fetch_add(messages, std::memory_order_relaxed);
  c.bytes_in.fetch_add(bytes, std::memory_order_relaxed);
}

void TopicTraffic::addOut(std::string_view topic, int64_t messages, int64_t bytes) {
  Counters& c = find(topic);
  c.messages_out.fetch_add(messages, std::memory_order_relaxed);
  c.bytes_out.fetch_add(bytes, std::memory_order_relaxed);
}

size_t TopicTraffic::trackedTopics() const {
  std::shared_lock lock(mu_);
  return topics_.size();
}

void TopicTraffic::render(std::string& out) const {
  std::vector<std::pair<std::string, const Counters*>> rows;
  {
    std::shared_lock lock(mu_);
    rows.reserve(topics_.size() + 1);
    for (const auto& [name, c] : topics_)
      rows.emplace_back("topic=\"" + prom::escapeLabel(name) + "\"", c.get());
  }
  std::sort(rows.begin(), rows.end());
  if (other_used_.load(std::memory_order_relaxed)) rows.emplace_back("topic=\"__other__\"", &other_);
  struct Family {
    const char* name;
    const char* help;
    std::atomic<int64_t> Counters::*field;
  };
  static constexpr Family kFamilies[] = {
      {"rocketrpc_broker_topic_messages_in_total",
       "Messages stored per topic (topics beyond metricsMaxTopics: __other__).", &Counters::messages_in},
      {"rocketrpc_broker_topic_bytes_in_total", "Message body bytes stored per topic.", &Counters::bytes_in},
      {"rocketrpc_broker_topic_messages_out_total", "Messages returned to pulls per topic.",
       &Counters::messages_out},
      {"rocketrpc_broker_topic_bytes_out_total", "Stored-message bytes returned to pulls per topic.",
       &Counters::bytes_out},
  };
  for (const auto& f : kFamilies) {
    prom::family(out, f.name, "counter", f.help);
    for (const auto& [labels, c] : rows)
      prom::sample(out, f.name, labels, (c->*f.field).load(std::memory_order_relaxed));
  }
}

std::string BrokerMetrics::render(const std::string& extra) const {
  std::string out;
  out.reserve(16 * 1024);
  auto counter = [&out](const char* name, const char* help, const std::atomic<int64_t>& v) {
    prom::family(out, name, "counter", help);
    prom::sample(out, name, {}, v.load(std::memory_order_relaxed));
  };
  counter("rocketrpc_broker_messages_in_total", "Messages stored from producers.", messages_in);
  counter("rocketrpc_broker_messages_out_total", "Messages returned to pulls.", messages_out);
  counter("rocketrpc_broker_send_requests_total", "Send requests received.", send_requests);
  counter("rocketrpc_broker_send_failures_total", "Send requests answered with an error.", send_failures);
  counter("rocketrpc_broker_pull_requests_total", "Pull requests received.", pull_requests);
  counter("rocketrpc_broker_pulls_held_total", "Pulls parked by long polling.", pulls_held);
  counter("rocketrpc_broker_replies_pushed_total", "Replies pushed to requesters.", replies_pushed);
  counter("rocketrpc_broker_reply_push_failures_total", "Reply pushes that failed.", reply_push_failures);
  counter("rocketrpc_broker_connections_closed_total", "Client connections closed.", connections_closed);
  counter("rocketrpc_broker_messages_delayed_total", "Delayed messages delivered to their topic.", messages_delayed);
  counter("rocketrpc_broker_messages_retried_total", "Messages sent back to retry topics.", messages_retried);
  counter("rocketrpc_broker_messages_dlq_total", "Messages moved to dead-letter topics.", messages_dlq);
  counter("rocketrpc_broker_acl_denied_total", "Requests refused NO_PERMISSION by the access check.", acl_denied);
  counter("rocketrpc_broker_requests_refused_names_total",
          "Requests answered SYSTEM_ERROR because a name they carry breaks the naming rules.", requests_refused_names);
  counter("rocketrpc_broker_pulls_refused_busy_total",
          "Long-polling pulls answered SYSTEM_BUSY because their connection had maxPullHoldsPerConnection held.",
          pulls_refused_busy);
  counter("rocketrpc_broker_requests_refused_overload_total",
          "Requests answered SYSTEM_BUSY [OVERLOAD] because workerQueueCapacity requests were waiting for a worker.",
          requests_refused_overload);
  prom::family(out, "rocketrpc_broker_pulls_holding", "gauge", "Long-polling pulls parked now.");
  prom::sample(out, "rocketrpc_broker_pulls_holding", {}, pulls_holding.load(std::memory_order_relaxed));

  // Per request code: codes not seen since start have no series.
  std::vector<std::pair<std::string, size_t>> codes;
  for (size_t slot = 0; slot < requests_by_code.size(); ++slot) {
    if (requests_by_code[slot].load(std::memory_order_relaxed) == 0 && request_seconds[slot].count() == 0)
      continue;
    const std::string name = slot <= kMaxCountedCode ? remoting::requestCodeLabel(static_cast<int32_t>(slot))
                                                     : std::string("OTHER");
    codes.emplace_back("request=\"" + name + "\"", slot);
  }
  prom::family(
      out, "rocketrpc_broker_requests_total", "counter",
      "Broker requests received, by request code name (CODE_<n> for codes without a name, OTHER above " +
          std::to_string(kMaxCountedCode) + ").");
  for (const auto& [labels, slot] : codes)
    prom::sample(out, "rocketrpc_broker_requests_total", labels,
                 requests_by_code[slot].load(std::memory_order_relaxed));
  prom::family(
      out, "rocketrpc_broker_request_processing_seconds", "histogram",
      "Time a request's handler ran before it answered or handed the work off, by request code name.");
  for (const auto& [labels, slot] : codes)
    request_seconds[slot].render(out, "rocketrpc_broker_request_processing_seconds", labels);

  auto histogram = [&out](const char* name, const char* help, const prom::Histogram& h) {
    prom::family(out, name, "histogram", help);
    h.render(out, name, {});
  };
  histogram("rocketrpc_broker_store_append_seconds",
            "From a put handed to the store to its completion (SYNC_FLUSH: including the group's fsync).",
            store_append_seconds);
  histogram("rocketrpc_broker_store_fsync_seconds", "One commit-log fsync of the dirty segments.",
            *store_fsync_seconds);
  histogram("rocketrpc_broker_pull_hold_seconds",
            "How long a long-polling pull stayed parked before it was woken, expired or dropped.",
            pull_hold_seconds);
  histogram("rocketrpc_broker_reply_push_seconds",
            "From a reply pushed to its requester (PUSH_REPLY_MESSAGE_TO_CLIENT) to the requester's answer.",
            reply_push_seconds);
  topics.render(out);
  out += extra;
  return out;
}

std::string renderConsumerLag(store::MessageStore& store, size_t max_series) {
  std::string out;
  prom::family(
      out, "rocketrpc_broker_consumer_lag", "gauge",
      "Messages not yet consumed per consumer group and topic: sum over queues of max offset minus the "
      "committed offset.");
  size_t series = 0;
  size_t dropped = 0;
  // Keys are "topic@group"; a group name cannot hold '@' (remoting/protocol/names.h), a topic neither.
  for (const auto& [key, queues] : store.consumerOffsets().snapshot()) {
    const size_t at = key.rfind('@');
    if (at == std::string::npos) continue;
    if (series >= max_series) {
      ++dropped;
      continue;
    }
    const std::string topic = key.substr(0, at);
    int64_t lag = 0;
    for (const auto& [queue_id, offset] : queues)
      lag += std::max<int64_t>(0, store.maxOffset(topic, queue_id) - offset);
    prom::sample(
        out, "rocketrpc_broker_consumer_lag",
        "group=\"" + prom::escapeLabel(key.substr(at + 1)) + "\",topic=\"" + prom::escapeLabel(topic) + "\"",
        lag);
    ++series;
  }
  prom::family(
      out, "rocketrpc_broker_consumer_lag_series_dropped", "gauge",
      "Group and topic pairs left out of rocketrpc_broker_consumer_lag by the metricsMaxTopics cap.");
  prom::sample(out, "rocketrpc_broker_consumer_lag_series_dropped", {}, static_cast<int64_t>(dropped));
  return out;
}

}  // namespace rocketrpc::broker
