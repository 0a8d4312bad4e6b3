// RateSampler (the TPS fields of GET_BROKER_RUNTIME_INFO) and the day totals of BrokerMetrics.
#include "broker/broker_metrics.h"

#include <gtest/gtest.h>

namespace rocketrpc::broker {
namespace {

TEST(RateSamplerTest, RatesOverTenSecondsOneMinuteAndTenMinutes) {
  RateSampler r;
  EXPECT_EQ(r.rates(0), "0.00 0.00 0.00");  // no samples yet
  // Counter 0 grows by 100/s for 10 minutes, then by 1000/s for the last 10 s; counter 1 stays flat.
  int64_t total = 0;
  for (int s = 0; s <= 600; ++s) {
    r.sample(int64_t{s} * 1000, {total, 7, 0});
    total += 100;
  }
  total -= 100;
  for (int s = 601; s <= 610; ++s) {
    total += 1000;
    r.sample(int64_t{s} * 1000, {total, 7, 0});
  }
  // 10 s: 1000/s. 60 s: (50 * 100 + 10 * 1000) / 60 = 250/s. 600 s: (590 * 100 + 10 * 1000) / 600 = 115/s.
  EXPECT_EQ(r.rates(0), "1000.00 250.00 115.00");
  EXPECT_EQ(r.rates(1), "0.00 0.00 0.00");
  EXPECT_EQ(r.rates(99), "0.00 0.00 0.00");
}

TEST(RateSamplerTest, ShortHistoryUsesWhatThereIs) {
  RateSampler r;
  r.sample(0, {0, 0, 0});
  r.sample(4000, {20, 0, 8});
  EXPECT_EQ(r.rates(0), "5.00 5.00 5.00");
  EXPECT_EQ(r.rates(2), "2.00 2.00 2.00");
}

TEST(BrokerMetricsTest, DayTotalsRollAtTheFirstSampleOfANewDay) {
  constexpr int64_t kDay = 86'400'000;
  BrokerMetrics m;
  m.sampleRates(3 * kDay + 5);  // boot day
  m.messages_in = 40;
  m.messages_out = 30;
  m.sampleRates(3 * kDay + 1000);
  EXPECT_EQ(m.dayTotals().put_today_morning, 0);
  m.sampleRates(4 * kDay + 10);  // next day
  auto d = m.dayTotals();
  EXPECT_EQ(d.put_today_morning, 40);
  EXPECT_EQ(d.get_today_morning, 30);
  EXPECT_EQ(d.put_yesterday_morning, 0);
  m.messages_in = 100;
  m.sampleRates(5 * kDay + 10);
  d = m.dayTotals();
  EXPECT_EQ(d.put_today_morning, 100);
  EXPECT_EQ(d.put_yesterday_morning, 40);
  m.sampleRates(9 * kDay);  // days without samples: yesterday morning is today's as well
  EXPECT_EQ(m.dayTotals().put_yesterday_morning, 100);
}

}  // namespace
}  // namespace rocketrpc::broker
