#include "kelvin/device/simulated_sensor.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numbers>

#include "kelvin/proto/telemetry.hpp"

namespace kelvin::device {
namespace {

constexpr double kDayMs = 24.0 * 60 * 60 * 1000;
constexpr double kHourMs = 60.0 * 60 * 1000;
constexpr double kDiurnalAmplitudeC = 2.0;
constexpr double kWarmestHourUtc = 15.0;
constexpr double kDriftPerSqrtHourC = 0.3;  // random-walk step size for one hour
constexpr double kMaxDriftC = 1.5;
constexpr double kTemperatureNoiseC = 0.1;
constexpr double kHumidityPerDegree = 2.5;  // %RH lost per °C of warming
constexpr double kHumidityNoisePct = 0.4;
constexpr double kMinHumidityPct = 35.0;
constexpr double kMaxHumidityPct = 60.0;

// Standard normal deviate (Box–Muller). 1 - u keeps the logarithm's argument in (0, 1].
double normal(SplitMix64& random) {
  const double u1 = 1.0 - uniform_unit(random);
  const double u2 = uniform_unit(random);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

double round_hundredths(double value) {
  return std::round(value * 100.0) / 100.0;
}

double clamp_to(proto::Quantity quantity, double value) {
  const auto& q = proto::info(quantity);
  return std::clamp(value, q.min, q.max);
}

// Keeps a random walk inside [-limit, limit] by reflecting at the bounds, so it neither sticks to
// a bound (as clamping would) nor leaves the band.
double reflect(double value, double limit) {
  for (int i = 0; i < 4 && std::abs(value) > limit; ++i) value = std::copysign(2 * limit, value) - value;
  return std::clamp(value, -limit, limit);
}

}  // namespace

std::string simulated_sensor_name(std::uint64_t seed) {
  std::string name = "sim:";
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, seed);
  name.append(digits, ec == std::errc() ? end : digits);
  return name;
}

SimulatedClimate::SimulatedClimate(std::uint64_t seed)
    : random_(seed),
      base_temperature_c_(18.0 + 6.0 * uniform_unit(random_)),
      base_humidity_pct_(42.0 + 10.0 * uniform_unit(random_)) {}

SensorValues SimulatedClimate::sample(std::int64_t now_ms) {
  if (last_sample_ms_ && now_ms > *last_sample_ms_) {
    const double hours = static_cast<double>(now_ms - *last_sample_ms_) / kHourMs;
    drift_c_ = reflect(drift_c_ + kDriftPerSqrtHourC * std::sqrt(hours) * normal(random_), kMaxDriftC);
  }
  if (!last_sample_ms_ || now_ms > *last_sample_ms_) last_sample_ms_ = now_ms;

  // Time of day in [0, kDayMs), also for timestamps before 1970.
  const double day_ms = std::fmod(std::fmod(static_cast<double>(now_ms), kDayMs) + kDayMs, kDayMs);
  const double phase = 2.0 * std::numbers::pi * (day_ms - kWarmestHourUtc * kHourMs) / kDayMs;
  const double climate_c = base_temperature_c_ + kDiurnalAmplitudeC * std::cos(phase) + drift_c_;
  const double temperature = climate_c + kTemperatureNoiseC * normal(random_);

  double humidity =
      base_humidity_pct_ - kHumidityPerDegree * (climate_c - base_temperature_c_) + kHumidityNoisePct * normal(random_);
  humidity = std::clamp(humidity, kMinHumidityPct, kMaxHumidityPct);

  SensorValues values{};
  values[static_cast<std::size_t>(proto::Quantity::temperature)] =
      clamp_to(proto::Quantity::temperature, round_hundredths(temperature));
  values[static_cast<std::size_t>(proto::Quantity::humidity)] =
      clamp_to(proto::Quantity::humidity, round_hundredths(humidity));
  return values;
}

}  // namespace kelvin::device
