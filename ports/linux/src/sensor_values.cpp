#include "kelvin/linux_port/sensor_values.hpp"

#include <cmath>
#include <cstdio>
#include <string>

namespace kelvin::linux_port {

Result<double> plausible(proto::Quantity quantity, double value, std::string_view source) {
  const auto& info = proto::info(quantity);
  if (std::isfinite(value) && value >= info.min && value <= info.max) return value;
  char text[64];
  std::snprintf(text, sizeof text, "%g", value);
  return make_error(Errc::corrupt, std::string(source) + ": implausible " + std::string(info.name) + " " + text + " " +
                                       std::string(info.unit) + " (the sensor or its wiring is faulty)");
}

void merge_missing(device::SensorValues& into, const device::SensorValues& from) {
  for (std::size_t i = 0; i < into.size(); ++i) {
    if (!into[i] && from[i]) into[i] = from[i];
  }
}

bool has_any_value(const device::SensorValues& values) {
  for (const auto& value : values) {
    if (value) return true;
  }
  return false;
}

Result<device::SensorValues> temperature_only(double celsius, std::string_view source) {
  auto checked = plausible(proto::Quantity::temperature, celsius, source);
  if (!checked) return std::move(checked).error();
  device::SensorValues values{};
  values[static_cast<std::size_t>(proto::Quantity::temperature)] = *checked;
  return values;
}

}  // namespace kelvin::linux_port
