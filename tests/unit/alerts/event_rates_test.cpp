// Events in the last minute from counters sampled at each evaluation (kelvin/alerts/event_rates.hpp).

#include "kelvin/alerts/event_rates.hpp"

#include <gtest/gtest.h>

namespace kelvin::alerts {
namespace {

constexpr std::size_t kSignIns = static_cast<std::size_t>(GatewayEvent::failed_sign_ins);
constexpr std::size_t kRejected = static_cast<std::size_t>(GatewayEvent::rejected_readings);

EventCounts sign_ins(std::uint64_t failed) {
  EventCounts counts{};
  counts[kSignIns] = failed;
  return counts;
}

TEST(EventRates, TheFirstSampleHasNoRate) {
  EventRates rates;
  EXPECT_FALSE(rates.sample(0, sign_ins(100))[kSignIns]);
}

TEST(EventRates, ABurstWithinTheFirstMinuteCountsAsItsEventsNotExtrapolated) {
  EventRates rates;
  rates.sample(0, sign_ins(0));
  // 20 in 10 s is 20 in the last minute, not 120 per minute.
  EXPECT_DOUBLE_EQ(*rates.sample(10'000, sign_ins(20))[kSignIns], 20);
}

TEST(EventRates, OnceSamplesSpanAMinuteOnlyTheLastMinuteCounts) {
  EventRates rates;
  std::uint64_t failed = 0;
  for (std::int64_t t = 0; t <= 120'000; t += 10'000) {
    failed += t < 60'000 ? 10 : 0;  // 10 per 10 s for the first minute, then none
    const auto rate = rates.sample(t, sign_ins(failed))[kSignIns];
    if (t == 60'000) {
      EXPECT_DOUBLE_EQ(*rate, 50) << "the events since t=0 (the first sample)";
    }
    if (t == 120'000) {
      EXPECT_DOUBLE_EQ(*rate, 0) << "a quiet minute";
    }
  }
  EXPECT_FALSE(rates.sample(130'000, sign_ins(failed))[kRejected]) << "not counted: no rate";
}

TEST(EventRates, ACounterThatShrinksCountsNothing) {
  EventRates rates;
  rates.sample(0, sign_ins(50));
  EXPECT_DOUBLE_EQ(*rates.sample(60'000, sign_ins(10))[kSignIns], 0);
}

}  // namespace
}  // namespace kelvin::alerts
