#include "kelvin/device/simulated_sensor.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace kelvin::device {
namespace {

constexpr std::int64_t kStart = 1'800'000'000'000;  // 2027-01-15T08:00:00Z
constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;

struct Series {
  std::vector<double> temperature;
  std::vector<double> humidity;
};

Series run(std::uint64_t seed, std::int64_t start, std::int64_t step, int count) {
  SimulatedSensor sensor(seed);
  Series s;
  for (int i = 0; i < count; ++i) {
    auto values = sensor.read(start + i * step);
    EXPECT_TRUE(values);
    s.temperature.push_back(*(*values)[static_cast<std::size_t>(proto::Quantity::temperature)]);
    s.humidity.push_back(*(*values)[static_cast<std::size_t>(proto::Quantity::humidity)]);
  }
  return s;
}

double mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

TEST(SimulatedSensor, IsNamedAfterItsSeed) {
  EXPECT_EQ(SimulatedSensor(42).name(), "sim:42");
  EXPECT_EQ(SimulatedSensor(0).name(), "sim:0");
}

TEST(SimulatedSensor, SameSeedAndTimesGiveIdenticalValues) {
  auto a = run(7, kStart, 10 * kMinute, 500);
  auto b = run(7, kStart, 10 * kMinute, 500);
  EXPECT_EQ(a.temperature, b.temperature);
  EXPECT_EQ(a.humidity, b.humidity);
}

TEST(SimulatedSensor, DifferentSeedsGiveDifferentSeries) {
  auto a = run(1, kStart, 10 * kMinute, 200);
  auto b = run(2, kStart, 10 * kMinute, 200);
  EXPECT_NE(a.temperature, b.temperature);
  EXPECT_NE(a.humidity, b.humidity);
  // Each seed has its own climate: the base temperatures of many seeds spread over several °C.
  double coldest = 100;
  double warmest = -100;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const double m = mean(run(seed, kStart, kHour, 48).temperature);
    coldest = std::min(coldest, m);
    warmest = std::max(warmest, m);
  }
  EXPECT_GT(warmest - coldest, 2.0);
}

TEST(SimulatedSensor, StaysInAnIndoorClimateAndRoundsToHundredths) {
  for (std::uint64_t seed : {0ULL, 1ULL, 99ULL, 0xFFFFFFFFFFFFFFFFULL}) {
    auto s = run(seed, kStart, 5 * kMinute, 30 * 24 * 12);  // a month
    for (std::size_t i = 0; i < s.temperature.size(); ++i) {
      // base 18–24, ±2 daily, ±1.5 drift, noise σ 0.1
      ASSERT_GE(s.temperature[i], 14.0) << seed;
      ASSERT_LE(s.temperature[i], 28.0) << seed;
      ASSERT_GE(s.humidity[i], 35.0) << seed;
      ASSERT_LE(s.humidity[i], 60.0) << seed;
      EXPECT_NEAR(s.temperature[i] * 100, std::round(s.temperature[i] * 100), 1e-6);
      EXPECT_NEAR(s.humidity[i] * 100, std::round(s.humidity[i] * 100), 1e-6);
    }
  }
}

TEST(SimulatedSensor, FollowsADailyCycleWarmestInTheAfternoon) {
  // Two weeks, sampled at 15:00 and 03:00 UTC.
  SimulatedSensor sensor(5);
  const std::int64_t midnight = kStart - kStart % kDay;
  double afternoon = 0;
  double night = 0;
  for (int d = 0; d < 14; ++d) {
    auto night_values = sensor.read(midnight + d * kDay + 3 * kHour);
    auto afternoon_values = sensor.read(midnight + d * kDay + 15 * kHour);
    night += *(*night_values)[static_cast<std::size_t>(proto::Quantity::temperature)];
    afternoon += *(*afternoon_values)[static_cast<std::size_t>(proto::Quantity::temperature)];
  }
  // The cycle is ±2 °C, so the two means differ by about 4 °C (minus drift and noise).
  EXPECT_GT((afternoon - night) / 14, 2.5);
}

TEST(SimulatedSensor, HumidityFallsWhenTheRoomWarms) {
  auto s = run(11, kStart, 10 * kMinute, 6 * 24 * 7);
  const double mt = mean(s.temperature);
  const double mh = mean(s.humidity);
  double cov = 0;
  double vt = 0;
  double vh = 0;
  for (std::size_t i = 0; i < s.temperature.size(); ++i) {
    cov += (s.temperature[i] - mt) * (s.humidity[i] - mh);
    vt += (s.temperature[i] - mt) * (s.temperature[i] - mt);
    vh += (s.humidity[i] - mh) * (s.humidity[i] - mh);
  }
  EXPECT_LT(cov / std::sqrt(vt * vh), -0.8);
}

TEST(SimulatedSensor, IsNoisyButSmooth) {
  // A minute apart, readings differ (noise) but by little (σ 0.1 °C, drift negligible).
  auto s = run(3, kStart, kMinute, 600);
  int changed = 0;
  for (std::size_t i = 1; i < s.temperature.size(); ++i) {
    if (s.temperature[i] != s.temperature[i - 1]) ++changed;
    EXPECT_LT(std::abs(s.temperature[i] - s.temperature[i - 1]), 0.8);
  }
  EXPECT_GT(changed, 500);
}

TEST(SimulatedSensor, DriftsSlowlyWithinItsBounds) {
  // Daily means cancel the daily cycle and the noise, leaving base + drift.
  auto s = run(21, kStart - kStart % kDay, 10 * kMinute, 60 * 144);  // 60 days
  std::vector<double> daily;
  for (std::size_t d = 0; d < 60; ++d) {
    daily.push_back(mean(std::vector<double>(s.temperature.begin() + static_cast<std::ptrdiff_t>(d * 144),
                                             s.temperature.begin() + static_cast<std::ptrdiff_t>((d + 1) * 144))));
  }
  const double overall = mean(daily);
  double spread = 0;
  for (double m : daily) spread = std::max(spread, std::abs(m - overall));
  EXPECT_GT(spread, 0.3);  // it does wander
  EXPECT_LT(spread, 3.0);  // within the ±1.5 °C band around the base
}

TEST(SimulatedSensor, HasMeasurementNoiseOfAboutATenthOfADegree) {
  // A second apart the climate barely moves, so consecutive differences are the noise:
  // for σ = 0.1 °C their standard deviation is 0.1·√2 ≈ 0.14 °C.
  auto s = run(8, kStart, 1000, 2000);
  double sum_sq = 0;
  for (std::size_t i = 1; i < s.temperature.size(); ++i) {
    const double diff = s.temperature[i] - s.temperature[i - 1];
    sum_sq += diff * diff;
  }
  const double sd = std::sqrt(sum_sq / static_cast<double>(s.temperature.size() - 1));
  EXPECT_GT(sd, 0.1);
  EXPECT_LT(sd, 0.2);
}

}  // namespace
}  // namespace kelvin::device
