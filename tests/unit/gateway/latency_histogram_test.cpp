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

}  // namespace
}  // namespace kelvin::gateway
