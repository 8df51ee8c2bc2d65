#include "kelvin/device/ds18b20.hpp"

#include <algorithm>
#include <string>

#include "format.hpp"
#include "kelvin/proto/telemetry.hpp"

namespace kelvin::device {

std::uint8_t dallas_crc8(std::span<const std::uint8_t> bytes) {
  unsigned crc = 0;
  for (std::uint8_t byte : bytes) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1U) != 0 ? (crc >> 1) ^ 0x8CU : crc >> 1;
  }
  return static_cast<std::uint8_t>(crc);
}

int ds18b20_resolution_bits(std::uint8_t config) {
  return 9 + ((config >> 5) & 0x3);
}

Result<double> decode_ds18b20_scratchpad(std::span<const std::uint8_t, kDs18b20ScratchpadSize> scratchpad) {
  auto all = [&](std::uint8_t value) {
    return std::all_of(scratchpad.begin(), scratchpad.end(), [=](std::uint8_t b) { return b == value; });
  };
  if (all(0xFF)) return make_error(Errc::not_found, "DS18B20: no device answered (scratchpad all 0xFF)");
  if (all(0x00)) return make_error(Errc::corrupt, "DS18B20: bus held low (scratchpad all 0x00)");
  const std::uint8_t crc = dallas_crc8(scratchpad.first<8>());
  if (crc != scratchpad[8]) {
    return make_error(Errc::corrupt, "DS18B20 CRC mismatch: scratchpad says " + std::to_string(scratchpad[8]) +
                                         ", bytes give " + std::to_string(crc));
  }
  const auto raw = static_cast<std::uint16_t>(scratchpad[0] | (scratchpad[1] << 8));
  if (raw == kDs18b20PowerOnRaw) {
    return make_error(Errc::conflict, "DS18B20 reports its power-on value 85 C: conversion not done");
  }
  // Clearing the undefined low bits of a two's complement number rounds towards -infinity, which
  // is what the sensor's own lower-resolution conversion does.
  const int undefined_bits = 12 - ds18b20_resolution_bits(scratchpad[4]);
  const auto mask = static_cast<std::uint16_t>(0xFFFFU << undefined_bits);
  const auto sixteenths = static_cast<std::int16_t>(raw & mask);
  const double celsius = sixteenths / 16.0;
  const auto& range = proto::info(proto::Quantity::temperature);
  if (celsius < range.min || celsius > range.max) {
    return make_error(Errc::corrupt, "DS18B20 temperature " + detail::format_double(celsius) + " C is implausible");
  }
  return celsius;
}

}  // namespace kelvin::device
