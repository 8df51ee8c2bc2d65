#include "kelvin/device/dht11.hpp"

#include <string>

#include "format.hpp"
#include "kelvin/proto/telemetry.hpp"

namespace kelvin::device {
namespace {

constexpr std::uint8_t kNegativeBit = 0x80;
constexpr std::uint8_t kMaxTenths = 9;

bool within(proto::Quantity quantity, double value) {
  const auto& q = proto::info(quantity);
  return value >= q.min && value <= q.max;
}

}  // namespace

std::uint8_t dht11_checksum(std::uint8_t humidity_int, std::uint8_t humidity_tenths, std::uint8_t temperature_int,
                            std::uint8_t temperature_tenths) {
  const unsigned sum = 0U + humidity_int + humidity_tenths + temperature_int + temperature_tenths;
  return static_cast<std::uint8_t>(sum & 0xFFU);
}

Result<Dht11Bytes> dht11_bytes_from_widths(std::span<const std::uint32_t> high_widths_us) {
  if (high_widths_us.size() != kDht11FrameBits) {
    return make_error(Errc::corrupt,
                      "DHT11 framing: expected 40 bit pulses, got " + std::to_string(high_widths_us.size()));
  }
  Dht11Bytes bytes{};
  for (std::size_t i = 0; i < kDht11FrameBits; ++i) {
    const std::uint32_t width = high_widths_us[i];
    if (width < kDht11MinPulseUs || width > kDht11MaxPulseUs) {
      return make_error(Errc::corrupt, "DHT11 framing: bit " + std::to_string(i) + " pulse of " +
                                           std::to_string(width) + " us is outside 10..100 us");
    }
    const bool one = width > kDht11OneThresholdUs;
    auto& byte = bytes[i / 8];
    byte = static_cast<std::uint8_t>((static_cast<unsigned>(byte) << 1U) | (one ? 1U : 0U));
  }
  return bytes;
}

Result<SensorValues> decode_dht11_bytes(const Dht11Bytes& bytes) {
  const std::uint8_t expected = dht11_checksum(bytes[0], bytes[1], bytes[2], bytes[3]);
  if (bytes[4] != expected) {
    return make_error(Errc::corrupt, "DHT11 checksum mismatch: frame says " + std::to_string(bytes[4]) +
                                         ", bytes sum to " + std::to_string(expected));
  }
  const std::uint8_t humidity_tenths = bytes[1];
  const auto temperature_tenths = static_cast<std::uint8_t>(bytes[3] & ~kNegativeBit);
  if (humidity_tenths > kMaxTenths || temperature_tenths > kMaxTenths) {
    return make_error(Errc::corrupt, "DHT11 frame has a tenths byte above 9");
  }
  // Integer arithmetic in tenths, divided once, so 21.3 comes out as the double nearest 21.3.
  const double humidity = (bytes[0] * 10 + humidity_tenths) / 10.0;
  double temperature = (bytes[2] * 10 + temperature_tenths) / 10.0;
  if ((bytes[3] & kNegativeBit) != 0) temperature = -temperature;
  if (!within(proto::Quantity::humidity, humidity) || !within(proto::Quantity::temperature, temperature)) {
    return make_error(Errc::corrupt, "DHT11 reading " + detail::format_double(temperature) + " C / " +
                                         detail::format_double(humidity) + " %RH is implausible");
  }
  SensorValues values{};
  values[static_cast<std::size_t>(proto::Quantity::temperature)] = temperature;
  values[static_cast<std::size_t>(proto::Quantity::humidity)] = humidity;
  return values;
}

Result<SensorValues> decode_dht11_frame(std::span<const std::uint32_t> high_widths_us) {
  auto bytes = dht11_bytes_from_widths(high_widths_us);
  if (!bytes) return std::move(bytes).error();
  return decode_dht11_bytes(*bytes);
}

std::array<std::uint32_t, kDht11FrameBits> dht11_widths_from_bytes(const Dht11Bytes& bytes, std::uint32_t zero_us,
                                                                   std::uint32_t one_us) {
  std::array<std::uint32_t, kDht11FrameBits> widths{};
  for (std::size_t i = 0; i < kDht11FrameBits; ++i) {
    const bool one = ((static_cast<unsigned>(bytes[i / 8]) >> (7 - i % 8)) & 1U) != 0;
    widths[i] = one ? one_us : zero_us;
  }
  return widths;
}

}  // namespace kelvin::device
