#include "kelvin/device/status.hpp"

#include <charconv>

#include "kelvin/core/utf8.hpp"
#include "kelvin/proto/status.hpp"

namespace kelvin::device {
namespace {

std::string acceptable_fw(std::string_view fw_version) {
  const bool utf8 = is_valid_utf8(fw_version);
  std::string out(fw_version);
  for (char& c : out) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F || (!utf8 && byte > 0x7F)) c = '?';
  }
  if (out.size() > proto::kMaxFirmwareVersionBytes) {
    std::size_t cut = proto::kMaxFirmwareVersionBytes;
    // Back up over continuation bytes (10xxxxxx) so no character is split.
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0U) == 0x80U) --cut;
    out.resize(cut);
  }
  return out;
}

}  // namespace

void append_json_string(std::string_view text, std::string& out) {
  constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (byte < 0x20) {
          out += "\\u00";
          out += kHex[byte >> 4];
          out += kHex[byte & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

std::string online_status_json(std::string_view fw_version, std::uint64_t dropped_total, std::uint64_t oldest_seq) {
  auto append_number = [](std::uint64_t value, std::string& out) {
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
    out.append(digits, ec == std::errc() ? end : digits);
  };
  std::string out = R"({"state":"online","fw":)";
  append_json_string(acceptable_fw(fw_version), out);
  out += R"(,"dropped":)";
  append_number(dropped_total, out);
  out += R"(,"oldest_seq":)";
  append_number(oldest_seq, out);
  out += '}';
  return out;
}

}  // namespace kelvin::device
