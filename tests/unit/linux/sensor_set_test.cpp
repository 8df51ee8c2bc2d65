#include "kelvin/linux_port/sensor_set.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>

namespace kelvin::linux_port {
namespace {

using proto::Quantity;
constexpr auto kTemperature = static_cast<std::size_t>(Quantity::temperature);
constexpr auto kHumidity = static_cast<std::size_t>(Quantity::humidity);

// Answers each read with the next scripted result; the last one repeats.
class ScriptedSource final : public device::SensorSource {
 public:
  ScriptedSource(std::string name, std::deque<Result<device::SensorValues>> script, int* reads)
      : name_(std::move(name)), script_(std::move(script)), reads_(reads) {}
  std::string_view name() const override { return name_; }
  Result<device::SensorValues> read(std::int64_t) override {
    ++*reads_;
    auto next = script_.front();
    if (script_.size() > 1) script_.pop_front();
    return next;
  }

 private:
  std::string name_;
  std::deque<Result<device::SensorValues>> script_;
  int* reads_;
};

device::SensorValues values(std::optional<double> temperature, std::optional<double> humidity) {
  device::SensorValues v{};
  v[kTemperature] = temperature;
  v[kHumidity] = humidity;
  return v;
}
Error failure(const char* message) {
  return make_error(Errc::io, message);
}

struct Fixture {
  int reads_a = 0;
  int reads_b = 0;
  std::vector<std::chrono::milliseconds> sleeps;
  SensorSet::Sleeper sleeper() {
    return [this](std::chrono::milliseconds d) { sleeps.push_back(d); };
  }
};

std::vector<std::unique_ptr<device::SensorSource>> sources_of(std::unique_ptr<device::SensorSource> a,
                                                              std::unique_ptr<device::SensorSource> b = nullptr) {
  std::vector<std::unique_ptr<device::SensorSource>> sources;
  sources.push_back(std::move(a));
  if (b) sources.push_back(std::move(b));
  return sources;
}

TEST(SensorSet, RetriesAFailingReadAndCountsTheFailures) {
  Fixture f;
  auto source = std::make_unique<ScriptedSource>(
      "flaky", std::deque<Result<device::SensorValues>>{failure("EIO"), failure("ETIMEDOUT"), values(21.5, 40.0)},
      &f.reads_a);
  SensorSet set(sources_of(std::move(source)), SensorSetOptions{3, std::chrono::milliseconds(100)}, f.sleeper());
  auto reading = set.read(0);
  EXPECT_FALSE(reading.empty());
  EXPECT_TRUE(reading.failures.empty());
  EXPECT_DOUBLE_EQ(reading.values[kTemperature].value(), 21.5);
  EXPECT_EQ(f.reads_a, 3);
  EXPECT_THAT(f.sleeps, ::testing::ElementsAre(std::chrono::milliseconds(100), std::chrono::milliseconds(100)));
  const SourceStats& stats = set.stats(0);
  EXPECT_EQ(stats.attempts, 3u);
  EXPECT_EQ(stats.failed_attempts, 2u);
  EXPECT_EQ(stats.failed_rounds, 0u);
  EXPECT_EQ(stats.last_error, "ETIMEDOUT");
}

TEST(SensorSet, GivesUpAfterTheRetriesAndStillReadsTheOtherSources) {
  Fixture f;
  auto broken =
      std::make_unique<ScriptedSource>("broken", std::deque<Result<device::SensorValues>>{failure("EIO")}, &f.reads_a);
  auto good = std::make_unique<ScriptedSource>(
      "good", std::deque<Result<device::SensorValues>>{values(19.0, std::nullopt)}, &f.reads_b);
  SensorSet set(sources_of(std::move(broken), std::move(good)), SensorSetOptions{2, std::chrono::milliseconds(0)},
                f.sleeper());
  auto reading = set.read(0);
  EXPECT_EQ(f.reads_a, 3);  // 1 + 2 retries
  EXPECT_EQ(f.reads_b, 1);
  EXPECT_TRUE(f.sleeps.empty());  // a zero delay does not sleep at all
  EXPECT_DOUBLE_EQ(reading.values[kTemperature].value(), 19.0);
  ASSERT_EQ(reading.failures.size(), 1u);
  EXPECT_EQ(reading.failures[0].first, "broken");
  EXPECT_EQ(reading.failures[0].second.message, "EIO");
  EXPECT_EQ(set.stats(0).failed_rounds, 1u);
  EXPECT_EQ(set.stats(0).failed_attempts, 3u);
  EXPECT_EQ(set.stats(1).failed_attempts, 0u);

  set.read(0);
  EXPECT_EQ(set.stats(0).failed_rounds, 2u);
  EXPECT_EQ(set.stats(0).attempts, 6u);
}

TEST(SensorSet, EarlierSourcesWinAndLaterOnesFillTheGaps) {
  Fixture f;
  auto first = std::make_unique<ScriptedSource>(
      "w1", std::deque<Result<device::SensorValues>>{values(20.0, std::nullopt)}, &f.reads_a);
  auto second =
      std::make_unique<ScriptedSource>("iio", std::deque<Result<device::SensorValues>>{values(23.0, 45.0)}, &f.reads_b);
  SensorSet set(sources_of(std::move(first), std::move(second)), SensorSetOptions{0, {}}, f.sleeper());
  auto reading = set.read(0);
  EXPECT_DOUBLE_EQ(reading.values[kTemperature].value(), 20.0);
  EXPECT_DOUBLE_EQ(reading.values[kHumidity].value(), 45.0);
}

TEST(SensorSet, AFailedPreferredSourceFallsBackToTheNext) {
  Fixture f;
  auto first =
      std::make_unique<ScriptedSource>("w1", std::deque<Result<device::SensorValues>>{failure("CRC")}, &f.reads_a);
  auto second =
      std::make_unique<ScriptedSource>("iio", std::deque<Result<device::SensorValues>>{values(23.0, 45.0)}, &f.reads_b);
  SensorSet set(sources_of(std::move(first), std::move(second)), SensorSetOptions{0, {}}, f.sleeper());
  auto reading = set.read(0);
  EXPECT_DOUBLE_EQ(reading.values[kTemperature].value(), 23.0);
  EXPECT_EQ(reading.failures.size(), 1u);
}

TEST(SensorSet, NothingReadIsEmpty) {
  Fixture f;
  auto broken =
      std::make_unique<ScriptedSource>("broken", std::deque<Result<device::SensorValues>>{failure("EIO")}, &f.reads_a);
  SensorSet set(sources_of(std::move(broken)), SensorSetOptions{1, {}}, f.sleeper());
  auto reading = set.read(0);
  EXPECT_TRUE(reading.empty());
  EXPECT_EQ(reading.failures.size(), 1u);
}

}  // namespace
}  // namespace kelvin::linux_port
