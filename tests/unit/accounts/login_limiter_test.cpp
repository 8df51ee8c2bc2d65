#include "kelvin/accounts/login_limiter.hpp"

#include <gtest/gtest.h>

#include <string>

namespace kelvin::accounts {
namespace {

TEST(LoginLimiter, LocksAnAccountAfterFiveFailuresForAMinuteThenDoubling) {
  LoginLimiter limiter;
  std::int64_t now = 1'000'000;
  for (int i = 0; i < LoginLimiter::kAccountFreeFailures - 1; ++i) {
    limiter.record_failure("ann", "10.0.0." + std::to_string(i), now);
    EXPECT_EQ(limiter.refused_for_ms("ann", "10.0.1.1", now), std::nullopt) << i;
  }
  limiter.record_failure("ann", "10.0.0.9", now);
  EXPECT_EQ(limiter.refused_for_ms("ann", "10.0.1.1", now), 60'000);  // from any address
  EXPECT_EQ(limiter.refused_for_ms("bob", "10.0.1.1", now), std::nullopt);
  EXPECT_EQ(limiter.refused_for_ms("ann", "10.0.1.1", now + 60'000), std::nullopt);
  limiter.record_failure("ann", "10.0.0.9", now + 60'000);
  EXPECT_EQ(limiter.refused_for_ms("ann", "10.0.1.1", now + 60'000), 120'000);
  for (int i = 0; i < 20; ++i) limiter.record_failure("ann", "10.0.2." + std::to_string(i), now + 60'000);
  EXPECT_EQ(limiter.refused_for_ms("ann", "10.0.1.1", now + 60'000), LoginLimiter::kAccountMaxLockMs);
  limiter.record_success("ann");
  EXPECT_EQ(limiter.refused_for_ms("ann", "10.0.1.1", now + 60'000), std::nullopt);
}

TEST(LoginLimiter, BlocksAnAddressSprayingManyAccountsUntilItsFailuresAgeOut) {
  LoginLimiter limiter;
  const std::int64_t start = 5'000'000;
  for (std::size_t i = 0; i < LoginLimiter::kAddressFailures; ++i) {
    EXPECT_EQ(limiter.refused_for_ms("new", "192.0.2.7", start + static_cast<std::int64_t>(i)), std::nullopt) << i;
    limiter.record_failure("user" + std::to_string(i), "192.0.2.7", start + static_cast<std::int64_t>(i));
  }
  const std::int64_t last = start + LoginLimiter::kAddressFailures - 1;
  EXPECT_EQ(limiter.refused_for_ms("new", "192.0.2.7", last), LoginLimiter::kAddressWindowMs - (last - start));
  EXPECT_EQ(limiter.refused_for_ms("new", "192.0.2.8", last), std::nullopt);  // another address
  limiter.record_success("user0");                                            // a success does not clear the address
  EXPECT_TRUE(limiter.refused_for_ms("new", "192.0.2.7", last).has_value());
  EXPECT_EQ(limiter.refused_for_ms("new", "192.0.2.7", start + LoginLimiter::kAddressWindowMs), std::nullopt);
}

TEST(LoginLimiter, StaysBoundedUnderManyAccountsAndAddresses) {
  LoginLimiter limiter;
  for (std::size_t i = 0; i < LoginLimiter::kMaxTracked + 100; ++i) {
    limiter.record_failure("u" + std::to_string(i), "a" + std::to_string(i), static_cast<std::int64_t>(i));
  }
  // The oldest were forgotten: their single failure no longer counts, the newest still do.
  for (int i = 0; i < LoginLimiter::kAccountFreeFailures - 1; ++i) limiter.record_failure("u0", "x", 1'000'000);
  EXPECT_EQ(limiter.refused_for_ms("u0", "y", 1'000'000), std::nullopt);
  const std::string newest = "u" + std::to_string(LoginLimiter::kMaxTracked + 99);
  for (int i = 0; i < LoginLimiter::kAccountFreeFailures - 1; ++i) limiter.record_failure(newest, "x", 1'000'000);
  EXPECT_TRUE(limiter.refused_for_ms(newest, "y", 1'000'000).has_value());
}

}  // namespace
}  // namespace kelvin::accounts
