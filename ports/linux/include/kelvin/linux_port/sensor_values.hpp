#pragma once
// Checks and merges shared by the Linux sensor sources.

#include <string_view>

#include "kelvin/core/result.hpp"
#include "kelvin/device/sensor_source.hpp"
#include "kelvin/proto/telemetry.hpp"

namespace kelvin::linux_port {

// `value` if it lies in the protocol's plausible range for `quantity` (kelvin/proto/telemetry.hpp
// kQuantities), else Errc::corrupt naming `source`: a value the gateway would refuse is a failed
// read, never something to send.
Result<double> plausible(proto::Quantity quantity, double value, std::string_view source);

// SensorValues holding only a temperature, if it is plausible (the single-quantity sources).
Result<device::SensorValues> temperature_only(double celsius, std::string_view source);

// Fills the quantities still empty in `into` from `from`; values already in `into` win. Reading
// several sources in configuration order and merging each into the result therefore gives every
// quantity from the first source that measured it.
void merge_missing(device::SensorValues& into, const device::SensorValues& from);

bool has_any_value(const device::SensorValues& values);

}  // namespace kelvin::linux_port
