#include "kelvin/linux_port/sensor_set.hpp"

#include <thread>
#include <utility>

#include "kelvin/linux_port/sensor_values.hpp"

namespace kelvin::linux_port {

bool SensorSetReading::empty() const {
  return !has_any_value(values);
}

Result<device::SensorValues> read_with_retries(device::SensorSource& source, std::int64_t now_ms, int retries,
                                               SourceStats& stats, const std::function<void()>& between_attempts) {
  for (int attempt = 0;; ++attempt) {
    ++stats.attempts;
    auto values = source.read(now_ms);
    if (values) return values;
    ++stats.failed_attempts;
    stats.last_error = values.error().message;
    if (attempt >= retries) {
      ++stats.failed_rounds;
      return values;
    }
    if (between_attempts) between_attempts();
  }
}

SensorSet::SensorSet(std::vector<std::unique_ptr<device::SensorSource>> sources, SensorSetOptions options,
                     Sleeper sleeper)
    : sources_(std::move(sources)), stats_(sources_.size()), options_(options), sleeper_(std::move(sleeper)) {
  if (!sleeper_) sleeper_ = [](std::chrono::milliseconds delay) { std::this_thread::sleep_for(delay); };
}

SensorSetReading SensorSet::read(std::int64_t now_ms) {
  SensorSetReading reading;
  const auto pause = [this] {
    if (options_.retry_delay.count() > 0) sleeper_(options_.retry_delay);
  };
  for (std::size_t i = 0; i < sources_.size(); ++i) {
    auto values = read_with_retries(*sources_[i], now_ms, options_.retries, stats_[i], pause);
    if (values) {
      merge_missing(reading.values, *values);
    } else {
      reading.failures.emplace_back(std::string(sources_[i]->name()), std::move(values).error());
    }
  }
  return reading;
}

}  // namespace kelvin::linux_port
