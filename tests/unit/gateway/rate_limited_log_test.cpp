#include <gtest/gtest.h>

#include "kelvin/gateway/rate_limited_log.hpp"

namespace kelvin::gateway {
namespace {

using namespace std::chrono_literals;

TEST(RateLimitedLog, OneLinePerKeyAndIntervalWithTheSuppressedCount) {
  RateLimitedLog log(10s);
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  EXPECT_EQ(log.admit("out_of_range", t0), 0u);
  EXPECT_FALSE(log.admit("out_of_range", t0 + 1s).has_value());
  EXPECT_FALSE(log.admit("out_of_range", t0 + 9s).has_value());
  EXPECT_EQ(log.admit("malformed_json", t0 + 9s), 0u);  // keys are independent
  EXPECT_EQ(log.admit("out_of_range", t0 + 10s), 2u);
  EXPECT_FALSE(log.admit("out_of_range", t0 + 11s).has_value());
}

}  // namespace
}  // namespace kelvin::gateway
