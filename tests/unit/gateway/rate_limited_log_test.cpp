#include "kelvin/gateway/rate_limited_log.hpp"

#include <gtest/gtest.h>

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

TEST(RateLimitedLog, KeysFromTheNetworkCannotGrowItWithoutBound) {
  RateLimitedLog log(10s);
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  ASSERT_EQ(log.admit("a", t0), 0u);
  EXPECT_EQ(log.admit("a", t0 + 1s), std::nullopt);  // "a" owes one suppressed line
  for (std::size_t i = 1; i < RateLimitedLog::kMaxKeys; ++i) ASSERT_TRUE(log.admit("k" + std::to_string(i), t0));
  // Full; a new key an interval later forgets every quiet key, "a" with its count among them.
  EXPECT_EQ(log.admit("new", t0 + 10s), 0u);
  EXPECT_EQ(log.admit("a", t0 + 10s), 0u);
  // A key still within its interval is kept while there is room.
  EXPECT_EQ(log.admit("new", t0 + 11s), std::nullopt);
}

}  // namespace
}  // namespace kelvin::gateway
