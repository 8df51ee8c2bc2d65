#pragma once
// Number formatting for error messages, internal to libs/device. std::to_chars: no locale, no
// stdio, available on every toolchain the device core targets.

#include <charconv>
#include <string>

namespace kelvin::device::detail {

// Shortest form that reads back to the same double ("21.3", "-10.125").
inline std::string format_double(double value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc() ? std::string(buffer, end) : std::string("?");
}

}  // namespace kelvin::device::detail
