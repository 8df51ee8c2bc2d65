#pragma once
// The gateway's acknowledgement on `devices/{id}/ack`: {"seq":N} (docs/protocol.md). Every reading
// of the device up to N is stored, or was consumed by a rejection; 0 means nothing stored yet.
// Portable (proto_portable): the device decodes it.

#include <cstdint>
#include <string>
#include <string_view>

#include "kelvin/core/result.hpp"

namespace kelvin::proto {

std::string encode_ack(std::uint64_t seq);

// N from exactly {"seq":N}, with optional JSON whitespace (space, tab, CR, LF) around the braces,
// the key, the colon and the number. N is a JSON integer in 0..2^64-1: decimal digits, no sign,
// no leading zeros, no fraction or exponent. Anything else is Errc::invalid_argument: another
// member, a duplicate key, an escaped key, a string or negative number, an overflow, trailing
// bytes (a raw NUL included). The payload comes from the network, and a mistaken ack frees
// readings for good, so nothing approximately right is accepted.
Result<std::uint64_t> decode_ack(std::string_view payload);

}  // namespace kelvin::proto
