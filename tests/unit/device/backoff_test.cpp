#include "kelvin/device/backoff.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace kelvin::device {
namespace {

// Always the lowest draw: the delay is the floor of the jitter band.
class ZeroRandom final : public RandomSource {
 public:
  std::uint64_t next_u64() override { return 0; }
};

TEST(Backoff, CeilingDoublesFromOneSecondUpToSixtySeconds) {
  SplitMix64Source random(1);
  Backoff backoff({}, random);
  std::vector<std::int64_t> ceilings;
  for (int i = 0; i < 9; ++i) {
    ceilings.push_back(backoff.ceiling_ms());
    (void)backoff.next_delay_ms();
  }
  EXPECT_EQ(ceilings, (std::vector<std::int64_t>{1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000}));
}

TEST(Backoff, EqualJitterKeepsEveryDelayBetweenHalfTheCeilingAndTheCeiling) {
  SplitMix64Source random(2);
  Backoff backoff({}, random);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const std::int64_t ceiling = backoff.ceiling_ms();
    const std::int64_t delay = backoff.next_delay_ms();
    ASSERT_GE(delay, ceiling / 2) << attempt;
    ASSERT_LE(delay, ceiling) << attempt;
    ASSERT_LE(delay, 60'000) << attempt;
    ASSERT_GT(delay, 0) << attempt;
  }
}

TEST(Backoff, JitterSpreadsDelaysOverTheWholeBand) {
  SplitMix64Source random(3);
  Backoff backoff({}, random);
  for (int i = 0; i < 10; ++i) (void)backoff.next_delay_ms();  // at the cap
  std::vector<std::int64_t> delays;
  for (int i = 0; i < 1000; ++i) delays.push_back(backoff.next_delay_ms());
  EXPECT_LT(*std::min_element(delays.begin(), delays.end()), 31'000);
  EXPECT_GT(*std::max_element(delays.begin(), delays.end()), 59'000);
  // Two devices with different random sources do not reconnect in lockstep.
  SplitMix64Source other_random(4);
  Backoff other({}, other_random);
  SplitMix64Source same_random(3);
  Backoff same({}, same_random);
  int equal = 0;
  for (int i = 0; i < 20; ++i) equal += other.next_delay_ms() == same.next_delay_ms() ? 1 : 0;
  EXPECT_LT(equal, 3);
}

TEST(Backoff, NeverZeroEvenWithTheLowestDrawAndTinyPolicies) {
  ZeroRandom zero;
  Backoff backoff({}, zero);
  EXPECT_EQ(backoff.next_delay_ms(), 500);
  EXPECT_EQ(backoff.next_delay_ms(), 1000);

  Backoff tiny({.initial_ms = 0, .max_ms = 0, .multiplier = 0}, zero);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(tiny.next_delay_ms(), 1);
  EXPECT_EQ(tiny.policy().initial_ms, 1);
  EXPECT_EQ(tiny.policy().max_ms, 1);
  EXPECT_EQ(tiny.policy().multiplier, 1U);
}

TEST(Backoff, ResetStartsOverAtTheInitialDelay) {
  SplitMix64Source random(5);
  Backoff backoff({}, random);
  for (int i = 0; i < 5; ++i) (void)backoff.next_delay_ms();
  EXPECT_EQ(backoff.ceiling_ms(), 32'000);
  backoff.reset();
  EXPECT_EQ(backoff.ceiling_ms(), 1000);
  const std::int64_t delay = backoff.next_delay_ms();
  EXPECT_GE(delay, 500);
  EXPECT_LE(delay, 1000);
}

TEST(Backoff, HugeLimitsDoNotOverflow) {
  ZeroRandom zero;
  Backoff backoff({.initial_ms = 1, .max_ms = INT64_MAX, .multiplier = 1'000'000}, zero);
  std::int64_t previous = 0;
  for (int i = 0; i < 10; ++i) {
    const std::int64_t delay = backoff.next_delay_ms();
    ASSERT_GE(delay, previous);
    ASSERT_GT(delay, 0);
    previous = delay;
  }
  EXPECT_EQ(backoff.ceiling_ms(), INT64_MAX);
}

}  // namespace
}  // namespace kelvin::device
