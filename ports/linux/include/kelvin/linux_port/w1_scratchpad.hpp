#pragma once
// The w1_slave file of the kernel's w1_therm driver for a DS18B20:
//   72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
//   72 01 4b 46 7f ff 0e 10 57 t=23125
// Line 1: the 9 scratchpad bytes, the CRC the driver computed and whether it matched. Line 2: the
// same bytes and the driver's temperature in millidegrees. We decode the bytes ourselves and
// check the CRC ourselves (kelvin/device/ds18b20.hpp), so a driver variant that words line 1 differently cannot slip a
// bad read through; t= is derived from the same bytes and is not needed.

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "kelvin/core/result.hpp"

namespace kelvin::linux_port {

using W1Scratchpad = std::array<std::uint8_t, 9>;

// The scratchpad bytes from a w1_slave text. Errors (Errc::corrupt): not the format above, or
// the driver said "NO" (its own CRC check failed).
Result<W1Scratchpad> parse_w1_slave(std::string_view text);

// The bytes are decoded and CRC-checked by the portable core's DS18B20 decoder
// (kelvin/device/ds18b20.hpp: decode_ds18b20_scratchpad), the same code a microcontroller port uses.

}  // namespace kelvin::linux_port
