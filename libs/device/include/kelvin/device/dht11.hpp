#pragma once
// Decoding of a DHT11 frame (Aosong/ASAIR DHT11 datasheet, "Serial communication"): after the
// host's start signal the sensor answers 80 µs low + 80 µs high, then sends 40 bits, MSB first.
// Every bit is ~50 µs low followed by a high pulse whose width is the bit: 26–28 µs is 0, ~70 µs
// is 1. A platform port measures those 40 high-pulse widths (GPIO edge timestamps, RMT on an
// ESP32) and hands them here; this file knows nothing about pins or timers.
//
// Bytes: humidity integer, humidity tenths, temperature integer, temperature tenths, checksum.
// The checksum is the low 8 bits of the sum of the first four bytes. Newer (ASAIR) DHT11s
// measure below 0 °C and set bit 7 of the temperature-tenths byte for a negative temperature
// (sign and magnitude: 0x01 0x83 is -1.3 °C); older ones never set it.

#include <array>
#include <cstdint>
#include <span>

#include "kelvin/core/result.hpp"
#include "kelvin/device/sensor_source.hpp"

namespace kelvin::device {

inline constexpr std::size_t kDht11FrameBits = 40;
using Dht11Bytes = std::array<std::uint8_t, 5>;

// Classification of one high pulse. The two nominal widths are 27 and 70 µs; the threshold sits
// between them with room for the jitter of a bit-banged measurement (tens of µs under Linux).
// Pulses outside [kDht11MinPulseUs, kDht11MaxPulseUs] are not DHT11 bits at all: a glitch, a
// missed edge that merged two pulses, or a bus held high.
inline constexpr std::uint32_t kDht11OneThresholdUs = 50;
inline constexpr std::uint32_t kDht11MinPulseUs = 10;
inline constexpr std::uint32_t kDht11MaxPulseUs = 100;

// The 5 bytes of a frame from its 40 high-pulse widths (µs, in arrival order). Errors
// (Errc::corrupt): not exactly 40 widths, or a width outside the plausible window. The checksum
// is not checked here.
Result<Dht11Bytes> dht11_bytes_from_widths(std::span<const std::uint32_t> high_widths_us);

// Temperature and humidity from the 5 bytes. Errors (Errc::corrupt): checksum mismatch, a tenths
// byte above 9, or a value outside the protocol's plausible range (kelvin/proto/telemetry.hpp).
//
// The range check deliberately uses the protocol's ranges (-55..125 °C, 0..100 %RH), not the
// DHT11's specified ranges (0..50 °C / 20..90 %RH, newer parts -20..60 °C / 5..95 %RH): those are
// where the datasheet guarantees accuracy, and a real reading outside them (a cold shed, a
// saturated greenhouse) is still a measurement worth keeping. What the check must catch is
// garbage that slipped past the 8-bit checksum, which the gateway would refuse anyway.
Result<SensorValues> decode_dht11_bytes(const Dht11Bytes& bytes);

// Both steps: widths -> bytes -> values.
Result<SensorValues> decode_dht11_frame(std::span<const std::uint32_t> high_widths_us);

// The other direction, for simulators and tests: the nominal high-pulse widths of `bytes`
// (zero_us for a 0 bit, one_us for a 1 bit).
std::array<std::uint32_t, kDht11FrameBits> dht11_widths_from_bytes(const Dht11Bytes& bytes, std::uint32_t zero_us = 27,
                                                                   std::uint32_t one_us = 70);

// The checksum byte of the first four bytes.
std::uint8_t dht11_checksum(std::uint8_t humidity_int, std::uint8_t humidity_tenths, std::uint8_t temperature_int,
                            std::uint8_t temperature_tenths);

}  // namespace kelvin::device
