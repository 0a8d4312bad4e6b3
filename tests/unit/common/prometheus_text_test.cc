// prom::Histogram (cumulative buckets, sum, count, bounds inclusive) and the text helpers' escaping.
#include "common/prometheus_text.h"

#include <gtest/gtest.h>

namespace rocketrpc::prom {
namespace {

TEST(PrometheusTextTest, HistogramRendersCumulativeBucketsSumAndCount) {
  Histogram h;
  h.recordUs(50);          // on the first bound: le="5e-05" (bounds are inclusive)
  h.recordUs(51);          // next bucket, le="0.0001"
  h.recordUs(2'000'000);   // le="2.5"
  h.recordUs(90'000'000);  // above every bound: only +Inf
  std::string out;
  h.render(out, "x_seconds", "a=\"b\"");
  EXPECT_NE(out.find("x_seconds_bucket{a=\"b\",le=\"5e-05\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_bucket{a=\"b\",le=\"0.0001\"} 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_bucket{a=\"b\",le=\"1\"} 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_bucket{a=\"b\",le=\"2.5\"} 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_bucket{a=\"b\",le=\"60\"} 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_bucket{a=\"b\",le=\"+Inf\"} 4\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_sum{a=\"b\"} 92.000101\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_count{a=\"b\"} 4\n"), std::string::npos) << out;
  EXPECT_EQ(h.count(), 4u);
}

TEST(PrometheusTextTest, NegativeDurationsCountAsZero) {
  Histogram h;
  h.recordUs(-5);
  std::string out;
  h.render(out, "y", {});
  EXPECT_NE(out.find("y_bucket{le=\"5e-05\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("y_sum 0\n"), std::string::npos) << out;
}

TEST(PrometheusTextTest, LabelValuesAndHelpAreEscaped) {
  EXPECT_EQ(escapeLabel("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  std::string out;
  family(out, "m_total", "counter", "line\\one\nline two \"quoted\"");
  EXPECT_EQ(out, "# HELP m_total line\\\\one\\nline two \"quoted\"\n# TYPE m_total counter\n");
  out.clear();
  sample(out, "m_total", "k=\"v\"", int64_t{7});
  sample(out, "g", {}, 0.25);
  EXPECT_EQ(out, "m_total{k=\"v\"} 7\ng 0.25\n");
}

}  // namespace
// One list of figures renders both formats (the client and RPC layers' stats share these helpers).
TEST(PrometheusTextTest, FiguresRenderAsFamiliesAndJsonKeys) {
  const std::vector<Figure> list = {{"sends_ok", "sends_ok_total", "counter", "Sends accepted.", 7},
                                    {"pending", "pending", "gauge", "Pending now.", 2}};
  std::string text;
  figures(text, "rocketrpc_producer_", "group=\"g\"", list);
  EXPECT_EQ(text,
            "# HELP rocketrpc_producer_sends_ok_total Sends accepted.\n# TYPE rocketrpc_producer_sends_ok_total "
            "counter\nrocketrpc_producer_sends_ok_total{group=\"g\"} 7\n# HELP rocketrpc_producer_pending "
            "Pending now.\n# TYPE rocketrpc_producer_pending gauge\nrocketrpc_producer_pending{group=\"g\"} 2\n");
  std::string json = "{\"type\":\"producer\"";
  jsonFigures(json, list);
  EXPECT_EQ(json + "}", "{\"type\":\"producer\",\"sends_ok\":7,\"pending\":2}");
  EXPECT_EQ(jsonString("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
}

}  // namespace rocketrpc::prom
