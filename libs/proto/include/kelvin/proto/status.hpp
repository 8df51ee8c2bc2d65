#pragma once
// The device status message (devices/{id}/status, retained):
//   {"state":"online","fw":"1.2.0","dropped":0,"oldest_seq":1}   published by the device on connect
//   {"state":"offline"}                                           its last will, published by the broker
// `dropped` counts readings the device's outbox discarded because it was full: loss is reported,
// never silent. `oldest_seq` is the lowest seq the device still holds (its next seq when it holds
// none): the gateway gives up the seqs below it that never arrived, so the ack can pass a gap the
// drops left. Unknown members are ignored so devices can add fields without breaking gateways.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kelvin/core/result.hpp"

namespace kelvin::proto {

inline constexpr std::size_t kMaxStatusBytes = 1024;
inline constexpr std::size_t kMaxFirmwareVersionBytes = 64;

struct StatusReport {
  bool online = false;
  std::string firmware;  // empty when not reported (e.g. the last will)
  std::uint64_t dropped = 0;
  std::optional<std::uint64_t> oldest_seq;  // absent in the last will and from older devices
};

// Errc::invalid_argument with a one-line reason for anything malformed: more than
// kMaxStatusBytes, not UTF-8, not JSON (a raw NUL included), a member name given twice in one
// object, a known member of the wrong type or value.
Result<StatusReport> decode_status(std::string_view payload);

}  // namespace kelvin::proto
