#include "kelvin/linux_port/w1_scratchpad.hpp"

#include <algorithm>
#include <charconv>
#include <string>

namespace kelvin::linux_port {
namespace {

constexpr std::uint16_t kPowerOnRaw = 0x0550;

// TEMPORARY local copy. The portable core's kelvin/device/ds18b20.hpp has the canonical
// dallas_crc8 (same polynomial, same span signature); once ports/linux links kelvin::device,
// w1_crc8 becomes `return device::dallas_crc8(bytes);` and this function goes away (and
// decode_w1_scratchpad can defer to device::decode_ds18b20_scratchpad, which has the same error
// codes on purpose).
std::uint8_t local_dallas_crc8(std::span<const std::uint8_t> bytes) {
  std::uint8_t crc = 0;
  for (std::uint8_t byte : bytes) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) {
      crc = static_cast<std::uint8_t>((crc & 1u) != 0 ? (crc >> 1) ^ 0x8Cu : crc >> 1);
    }
  }
  return crc;
}

bool parse_hex_byte(std::string_view text, std::uint8_t& out) {
  if (text.size() != 2) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + 2, out, 16);
  return ec == std::errc() && end == text.data() + 2;
}

Error malformed(std::string_view why) {
  return make_error(Errc::corrupt, "w1_slave is malformed (" + std::string(why) + ")");
}

}  // namespace

std::uint8_t w1_crc8(std::span<const std::uint8_t> bytes) {
  return local_dallas_crc8(bytes);
}

Result<W1Scratchpad> parse_w1_slave(std::string_view text) {
  const auto newline = text.find('\n');
  if (newline == std::string_view::npos) return malformed("no second line");
  std::string_view first = text.substr(0, newline);
  std::string_view second = text.substr(newline + 1);
  if (second.find("t=") == std::string_view::npos) return malformed("no t= on the second line");

  // "b0 b1 ... b8 : crc=xx YES"
  W1Scratchpad bytes{};
  for (auto& byte : bytes) {
    if (first.size() < 3 || !parse_hex_byte(first.substr(0, 2), byte) || first[2] != ' ') {
      return malformed("expected 9 hex bytes");
    }
    first.remove_prefix(3);
  }
  if (!first.starts_with(": crc=")) return malformed("expected ': crc='");
  first.remove_prefix(6);
  std::uint8_t driver_crc = 0;
  if (first.size() < 3 || !parse_hex_byte(first.substr(0, 2), driver_crc) || first[2] != ' ') {
    return malformed("expected a hex CRC");
  }
  first.remove_prefix(3);
  if (first == "NO") return make_error(Errc::corrupt, "w1_slave: the driver's CRC check failed (NO)");
  if (first != "YES") return malformed("expected YES or NO");
  return bytes;
}

Result<double> decode_w1_scratchpad(const W1Scratchpad& scratchpad) {
  auto all = [&](std::uint8_t value) {
    return std::all_of(scratchpad.begin(), scratchpad.end(), [&](std::uint8_t b) { return b == value; });
  };
  if (all(0xFF)) return make_error(Errc::not_found, "DS18B20 scratchpad is all 0xFF: no sensor answered");
  if (all(0x00)) return make_error(Errc::corrupt, "DS18B20 scratchpad is all zero: the bus is held low");
  if (w1_crc8(std::span(scratchpad).first(8)) != scratchpad[8]) {
    return make_error(Errc::corrupt, "DS18B20 scratchpad CRC mismatch (noise on the bus)");
  }
  const auto raw = static_cast<std::uint16_t>(scratchpad[0] | (scratchpad[1] << 8));
  if (raw == kPowerOnRaw) {
    return make_error(Errc::conflict, "DS18B20 reports its power-on value 85 °C: no conversion completed");
  }
  // Configuration byte bits 6-5 select 9..12 bits; the lowest 3..0 bits are then undefined.
  const int resolution_bits = 9 + ((scratchpad[4] >> 5) & 0x3);
  const auto undefined_mask = static_cast<std::uint16_t>((1u << (12 - resolution_bits)) - 1u);
  const auto masked = static_cast<std::int16_t>(raw & static_cast<std::uint16_t>(~undefined_mask));
  return masked / 16.0;
}

}  // namespace kelvin::linux_port
