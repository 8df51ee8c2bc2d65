#pragma once
// The device status message (devices/{id}/status, retained):
//   {"state":"online","fw":"1.2.0","dropped":0}   published by the device on connect
//   {"state":"offline"}                            its last will, published by the broker
// `dropped` counts readings the device's outbox discarded because it was full: loss is reported,
// never silent. Unknown members are ignored so devices can add fields without breaking gateways.

#include <cstdint>
#include <string>
#include <string_view>

#include "kelvin/core/result.hpp"

namespace kelvin::proto {

inline constexpr std::size_t kMaxStatusBytes = 1024;
inline constexpr std::size_t kMaxFirmwareVersionBytes = 64;

struct StatusReport {
  bool online = false;
  std::string firmware;      // empty when not reported (e.g. the last will)
  std::uint64_t dropped = 0;
};

// Errc::invalid_argument with a one-line reason for anything malformed.
Result<StatusReport> decode_status(std::string_view payload);

}  // namespace kelvin::proto
