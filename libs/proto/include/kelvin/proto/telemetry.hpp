#pragma once
// The telemetry model of the wire protocol (docs/protocol.md): what a reading is, the quantities
// a device may report with their units and plausible ranges, and the limits a gateway enforces.
// Portable: no OS headers, no exceptions, no allocation.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace kelvin::proto {

enum class Quantity : std::uint8_t { temperature, humidity };
inline constexpr std::size_t kQuantityCount = 2;

struct QuantityInfo {
  Quantity quantity;
  std::string_view name;  // the key in a reading's "values" object
  std::string_view unit;
  double min;  // readings outside [min, max] are physically implausible for the
  double max;  // supported sensors (DS18B20: -55..125 °C; DHT11/22: 0..100 %RH)
};

inline constexpr std::array<QuantityInfo, kQuantityCount> kQuantities = {{
    {Quantity::temperature, "temperature", "°C", -55.0, 125.0},
    {Quantity::humidity, "humidity", "%RH", 0.0, 100.0},
}};

constexpr const QuantityInfo& info(Quantity quantity) {
  return kQuantities[static_cast<std::size_t>(quantity)];
}
std::optional<Quantity> parse_quantity(std::string_view name) noexcept;

// One sensor reading. `seq` is the device's sequence number (starts at 1, never reused; 0 is
// never a reading and, in an ack, means "nothing stored yet"). `ts_ms` is Unix milliseconds.
struct Reading {
  std::uint64_t seq = 0;
  std::int64_t ts_ms = 0;
  std::array<std::optional<double>, kQuantityCount> values{};

  std::optional<double> value(Quantity q) const { return values[static_cast<std::size_t>(q)]; }
  void set(Quantity q, double v) { values[static_cast<std::size_t>(q)] = v; }
  bool operator==(const Reading&) const = default;
};

// What a gateway accepts. The defaults are the protocol's; both ends must agree on them.
struct TelemetryLimits {
  std::size_t max_payload_bytes = 16 * 1024;
  std::size_t max_batch_readings = 500;
  std::int64_t max_future_skew_ms = 5 * 60 * 1000;  // device clocks may run a little ahead
  std::int64_t earliest_ts_ms = 1'577'836'800'000;  // 2020-01-01T00:00:00Z: older means no clock
};

}  // namespace kelvin::proto
