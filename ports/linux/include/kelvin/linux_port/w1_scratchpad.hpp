#pragma once
// The w1_slave file of the kernel's w1_therm driver for a DS18B20:
//   72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
//   72 01 4b 46 7f ff 0e 10 57 t=23125
// Line 1: the 9 scratchpad bytes, the CRC the driver computed and whether it matched. Line 2: the
// same bytes and the driver's temperature in millidegrees. We decode the bytes ourselves and
// check the CRC ourselves, so a driver variant that words line 1 differently cannot slip a bad
// read through; t= is derived from the same bytes and is not needed.

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "kelvin/core/result.hpp"

namespace kelvin::linux_port {

using W1Scratchpad = std::array<std::uint8_t, 9>;

// Dallas/Maxim 1-Wire CRC-8 (poly x^8+x^5+x^4+1, reflected 0x8C, init 0).
std::uint8_t w1_crc8(std::span<const std::uint8_t> bytes);

// The scratchpad bytes from a w1_slave text. Errors (Errc::corrupt): not the format above, or
// the driver said "NO" (its own CRC check failed).
Result<W1Scratchpad> parse_w1_slave(std::string_view text);

// The temperature in °C from verified scratchpad bytes. Errors:
//   Errc::not_found  all bytes 0xFF: nothing answered on the bus
//   Errc::corrupt    CRC mismatch, or all bytes 0x00 (bus held low; zeros have a zero CRC)
//   Errc::conflict   the power-on value 0x0550 (85 °C): no conversion completed (a sensor at
//                    exactly 85.0 °C loses that reading; the caller retries)
// The plausibility range is checked by the caller.
Result<double> decode_w1_scratchpad(const W1Scratchpad& scratchpad);

}  // namespace kelvin::linux_port
