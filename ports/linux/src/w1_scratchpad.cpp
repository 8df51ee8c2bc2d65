#include "kelvin/linux_port/w1_scratchpad.hpp"

#include <charconv>
#include <string>

namespace kelvin::linux_port {
namespace {

bool parse_hex_byte(std::string_view text, std::uint8_t& out) {
  if (text.size() != 2) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + 2, out, 16);
  return ec == std::errc() && end == text.data() + 2;
}

Error malformed(std::string_view why) {
  return make_error(Errc::corrupt, "w1_slave is malformed (" + std::string(why) + ")");
}

}  // namespace

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

}  // namespace kelvin::linux_port
