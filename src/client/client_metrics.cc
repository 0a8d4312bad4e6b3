// Rendering of ProducerStats / PushConsumerStats as Prometheus text and JSON (rocketrpc/metrics.h). Kept in
// the client library (Producer and PushConsumer start their stats_callback with statsJson); the figures come
// from stats() only, so rendering costs the traffic nothing.
#include <fmt/format.h>

#include <chrono>
#include <string_view>
#include <vector>

#include "common/prometheus_text.h"
#include "rocketrpc/metrics.h"

namespace rocketrpc {

namespace {

using prom::Figure;
using prom::jsonString;

std::string render(std::string_view prefix, const std::string& group, const std::vector<Figure>& figures) {
  const std::string labels = "group=\"" + prom::escapeLabel(group) + "\"";
  std::string out;
  prom::figures(out, prefix, labels, figures);
  return out;
}

std::string json(std::string_view type, const std::string& group, const std::vector<Figure>& figures) {
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::string out =
      fmt::format("{{\"type\":{},\"group\":{},\"ts_ms\":{}", jsonString(type), jsonString(group), now_ms);
  prom::jsonFigures(out, figures);
  return out + "}";
}

std::vector<Figure> producerFigures(const ProducerStats& s) {
  return {
      {"sends_ok", "sends_ok_total", "counter", "Sends (sync, async, oneway, batch) the broker accepted.",
       s.sends_ok},
      {"sends_failed", "sends_failed_total", "counter", "Sends that failed.", s.sends_failed},
      {"requests_ok", "requests_ok_total", "counter", "Requests answered by a successful reply.",
       s.requests_ok},
      {"requests_timed_out", "requests_timed_out_total", "counter", "Requests without a reply in time.",
       s.requests_timed_out},
      {"requests_failed", "requests_failed_total", "counter",
       "Requests failed otherwise (not sent, error reply, over a limit, closed).", s.requests_failed},
      {"requests_pending", "requests_pending", "gauge", "Requests awaiting replies now.", s.requests_pending},
      {"async_in_flight", "async_in_flight", "gauge",
       "Asynchronous sends and requests holding a max_async_in_flight permit now.", s.async_in_flight},
      {"bytes_sent", "sent_bytes_total", "counter",
       "Body bytes (before compression) of accepted sends and sent requests.", s.bytes_sent},
  };
}

std::vector<Figure> consumerFigures(const PushConsumerStats& s) {
  return {
      {"messages_pulled", "messages_pulled_total", "counter", "Messages received by pulls.",
       s.messages_pulled},
      {"consumed_ok", "consumed_ok_total", "counter", "Messages whose listener call returned success.",
       s.consumed_ok},
      {"consumed_failed", "consumed_failed_total", "counter",
       "Messages whose listener threw or asked to reconsume or suspend.", s.consumed_failed},
      {"replies_ok", "replies_ok_total", "counter", "Automatic replies the broker accepted.", s.replies_ok},
      {"replies_failed", "replies_failed_total", "counter", "Automatic replies that could not be sent.",
       s.replies_failed},
      {"pulls_failed", "pulls_failed_total", "counter", "Pulls that ended in an error.", s.pulls_failed},
      {"messages_cached", "messages_cached", "gauge", "Messages pulled and not yet consumed now.",
       s.messages_cached},
      {"queues_assigned", "queues_assigned", "gauge", "Queues assigned to this member now.",
       s.queues_assigned},
  };
}

}  // namespace

std::string prometheusText(const Producer& producer) {
  return render("rocketrpc_producer_", producer.options().group, producerFigures(producer.stats()));
}

std::string prometheusText(const PushConsumer& consumer) {
  return render("rocketrpc_consumer_", consumer.options().group, consumerFigures(consumer.stats()));
}

std::string statsJson(const Producer& producer) {
  return json("producer", producer.options().group, producerFigures(producer.stats()));
}

std::string statsJson(const PushConsumer& consumer) {
  return json("push_consumer", consumer.options().group, consumerFigures(consumer.stats()));
}

}  // namespace rocketrpc
