#pragma once
// Decoding of a DS18B20 scratchpad (Maxim DS18B20 datasheet, "Memory" and "CRC Generation").
// A platform port reads the 9 bytes (Linux: the w1_slave/w1 "scratchpad" of the w1_therm driver;
// ESP32: a 1-Wire driver) and hands them here; this file knows nothing about the bus.
//
// Scratchpad layout: 0 temperature LSB, 1 temperature MSB, 2 TH, 3 TL, 4 configuration,
// 5–7 reserved, 8 CRC of bytes 0–7. The temperature register is a sign-extended two's complement
// number in 1/16 °C; at 9/10/11-bit resolution bits 2–0/1–0/0 are undefined. The configuration
// byte selects the resolution in bits 6–5 (R1 R0: 00 = 9 bits ... 11 = 12 bits).

#include <array>
#include <cstdint>
#include <span>

#include "kelvin/core/result.hpp"

namespace kelvin::device {

inline constexpr std::size_t kDs18b20ScratchpadSize = 9;

// The power-on reset value of the temperature register (+85 °C). The sensor reports it until the
// first conversion completes, so a read that races a conversion (or follows a brown-out that
// reset the sensor) returns it.
inline constexpr std::uint16_t kDs18b20PowerOnRaw = 0x0550;

// Dallas/Maxim 1-Wire CRC-8: polynomial x^8 + x^5 + x^4 + 1 (0x31, processed LSB first as its
// reflection 0x8C), initial value 0. Running it over data followed by its CRC yields 0.
std::uint8_t dallas_crc8(std::span<const std::uint8_t> bytes);

// The resolution (9..12 bits) the configuration byte selects.
int ds18b20_resolution_bits(std::uint8_t config);

// The temperature in °C, with the bits undefined at the configured resolution masked off.
// Errors:
//   Errc::not_found  all bytes 0xFF: nothing answered (the bus idles high through its pull-up)
//   Errc::corrupt    all bytes 0x00 (bus held low: a short, or a parasite-powered sensor
//                    without its strong pull-up; the CRC of zeros is zero, so the CRC alone
//                    would accept it), CRC mismatch, or a temperature outside -55..125 °C
//   Errc::conflict   the register holds the power-on value 0x0550 (+85 °C): no conversion has
//                    completed. A sensor really at exactly 85.0000 °C is indistinguishable and
//                    loses that reading; 84.9375 and 85.0625 still pass, and the caller retries.
// The reserved bytes are not checked: clone sensors differ there.
Result<double> decode_ds18b20_scratchpad(std::span<const std::uint8_t, kDs18b20ScratchpadSize> scratchpad);

}  // namespace kelvin::device
