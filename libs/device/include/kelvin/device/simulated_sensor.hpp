#pragma once
// A simulated temperature/humidity sensor for simulated devices, demos and load tests. Readings
// look like an indoor room: a seed-dependent base temperature (18–24 °C), a daily cycle (±2 °C,
// warmest at 15:00 UTC), a slow bounded random drift (±1.5 °C) and small noise (σ ≈ 0.1 °C);
// relative humidity 35–60 %, falling when the room warms (warmer air holds more water, so the
// same moisture is a lower relative humidity), with its own noise. Values are rounded to 0.01
// like a real sensor's resolution and clamped to the protocol's ranges.
//
// Deterministic: the same seed and the same sequence of now_ms give the same values on every
// platform; different seeds give different series.

#include <cstdint>
#include <optional>
#include <string>

#include "kelvin/device/random.hpp"
#include "kelvin/device/sensor_source.hpp"

namespace kelvin::device {

// The climate model, without the SensorSource interface.
class SimulatedClimate {
 public:
  explicit SimulatedClimate(std::uint64_t seed);

  // The values at `now_ms` (Unix ms). Calls are expected in non-decreasing now_ms; a call going
  // back in time only skips the drift step.
  SensorValues sample(std::int64_t now_ms);

 private:
  SplitMix64 random_;
  double base_temperature_c_;
  double base_humidity_pct_;
  double drift_c_ = 0.0;
  std::optional<std::int64_t> last_sample_ms_;
};

// "sim:<seed>"
std::string simulated_sensor_name(std::uint64_t seed);

// The model as a SensorSource. Header-only on purpose (see SplitMix64Source in random.hpp).
class SimulatedSensor final : public SensorSource {
 public:
  explicit SimulatedSensor(std::uint64_t seed) : climate_(seed), name_(simulated_sensor_name(seed)) {}

  std::string_view name() const override { return name_; }
  // Never fails.
  Result<SensorValues> read(std::int64_t now_ms) override { return climate_.sample(now_ms); }

 private:
  SimulatedClimate climate_;
  std::string name_;
};

}  // namespace kelvin::device
