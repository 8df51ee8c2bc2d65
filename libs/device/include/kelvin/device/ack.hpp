#pragma once
// Parsing the gateway's acknowledgement, `devices/{id}/ack`: {"seq":N} (docs/protocol.md).

#include <cstdint>
#include <optional>
#include <string_view>

namespace kelvin::device {

// N from exactly {"seq":N}, with optional JSON whitespace (space, tab, CR, LF) around the braces,
// the key, the colon and the number. N is a JSON integer in 0..2^64-1: decimal digits, no sign,
// no leading zeros, no fraction or exponent. Anything else is nullopt: another member, a
// duplicate key, an escaped key, a string or negative number, an overflow, trailing bytes. The
// payload comes from the network, and a mistaken ack frees readings for good, so nothing
// approximately right is accepted.
std::optional<std::uint64_t> parse_ack(std::string_view payload);

}  // namespace kelvin::device
