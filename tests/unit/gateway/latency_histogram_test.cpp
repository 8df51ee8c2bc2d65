#include <gtest/gtest.h>

#include "kelvin/gateway/latency_histogram.hpp"

namespace kelvin::gateway {
namespace {

TEST(LatencyHistogram, PercentilesOfKnownSamples) {
  LatencyHistogram h;
  EXPECT_EQ(h.percentile(0.5), 0);
  for (int ms = 1; ms <= 100; ++ms) h.record(ms);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.percentile(0.50), 50);
  EXPECT_EQ(h.percentile(0.99), 99);
  EXPECT_EQ(h.percentile(1.0), 100);
}

TEST(LatencyHistogram, ClampsNegativeAndHugeLatencies) {
  LatencyHistogram h;
  h.record(-5);  // a device clock slightly ahead
  h.record(10'000'000);
  EXPECT_EQ(h.percentile(0.5), 0);
  EXPECT_EQ(h.percentile(1.0), LatencyHistogram::kMaxMs);
  h.reset();
  EXPECT_EQ(h.count(), 0u);
}

TEST(LatencyHistogram, PercentileOfTwoHistogramsCountsBoth) {
  LatencyHistogram low, high;
  for (int i = 0; i < 90; ++i) low.record(10);
  for (int i = 0; i < 10; ++i) high.record(500);
  EXPECT_EQ(LatencyHistogram::percentile(low, high, 0.90), 10);
  EXPECT_EQ(LatencyHistogram::percentile(low, high, 0.91), 500);
  EXPECT_EQ(LatencyHistogram::percentile(high, low, 0.50), 10);
}

// The start-up burst must not stay in the percentiles once the gateway runs steadily.
TEST(RecentLatency, ForgetsSamplesOlderThanTwoWindows) {
  using namespace std::chrono_literals;
  const auto t0 = RecentLatency::Clock::time_point{} + 1h;
  RecentLatency recent(10s, t0);
  EXPECT_EQ(recent.percentile(0.99, t0), 0);
  for (int i = 0; i < 100; ++i) recent.record(900, t0 + 1s);  // start-up burst
  for (int i = 0; i < 100; ++i) recent.record(20, t0 + 12s);  // second window
  // Both windows count: half the samples are slow.
  EXPECT_EQ(recent.percentile(0.99, t0 + 15s), 900);
  EXPECT_EQ(recent.percentile(0.50, t0 + 15s), 20);
  // From 20 s the burst's window is two windows old: gone.
  for (int i = 0; i < 100; ++i) recent.record(30, t0 + 21s);
  EXPECT_EQ(recent.percentile(0.99, t0 + 21s), 30);
  EXPECT_EQ(recent.percentile(0.50, t0 + 21s), 20);
  // A quiet spell of more than two windows leaves nothing.
  EXPECT_EQ(recent.percentile(0.99, t0 + 45s), 0);
  // Windows keep their phase: a sample at 45 s belongs to the window [40 s, 50 s).
  recent.record(7, t0 + 45s);
  EXPECT_EQ(recent.percentile(0.99, t0 + 59s), 7);
  EXPECT_EQ(recent.percentile(0.99, t0 + 60s), 0);
}

}  // namespace
}  // namespace kelvin::gateway
