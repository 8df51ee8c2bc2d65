#pragma once
// A source of sensor readings: the seam between the portable agent loop and a platform's sensors
// (Linux sysfs in ports/linux, a simulated sensor here, an ESP-IDF driver in a later port).
// Portable: no OS headers; implementations may use anything their platform has.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kelvin/core/result.hpp"
#include "kelvin/proto/telemetry.hpp"

namespace kelvin::device {

// What one read produced: a value for each quantity the source measures (others stay empty).
using SensorValues = std::array<std::optional<double>, proto::kQuantityCount>;

class SensorSource {
 public:
  virtual ~SensorSource() = default;
  // A short label for logs and counters, e.g. "hwmon:thermal_zone0" or "w1:28-00000a1b2c3d".
  virtual std::string_view name() const = 0;
  // Takes one measurement at `now_ms` (Unix ms; only the simulated source uses it). A failed read
  // (sensor absent, CRC mismatch, implausible value) is an error, never a made-up value; the
  // caller retries and counts. Must not block for more than about a second.
  virtual Result<SensorValues> read(std::int64_t now_ms) = 0;
};

}  // namespace kelvin::device
