#include "kelvin/core/utf8.hpp"
#include "kelvin/proto/json_text.hpp"
#include "kelvin/proto/status.hpp"

namespace kelvin::proto {
namespace {

std::string acceptable_fw(std::string_view fw_version) {
  const bool utf8 = is_valid_utf8(fw_version);
  std::string out(fw_version);
  for (char& c : out) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F || (!utf8 && byte > 0x7F)) c = '?';
  }
  if (out.size() > kMaxFirmwareVersionBytes) {
    std::size_t cut = kMaxFirmwareVersionBytes;
    // Back up over continuation bytes (10xxxxxx) so no character is split.
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0U) == 0x80U) --cut;
    out.resize(cut);
  }
  return out;
}

}  // namespace

std::string encode_status(const StatusReport& report) {
  if (!report.online) return std::string(kOfflineStatusJson);
  std::string out = R"({"state":"online","fw":)";
  append_json_string(acceptable_fw(report.firmware), out);
  out += R"(,"dropped":)";
  append_json_number(report.dropped, out);
  if (report.oldest_seq) {
    out += R"(,"oldest_seq":)";
    append_json_number(*report.oldest_seq, out);
  }
  out += '}';
  return out;
}

}  // namespace kelvin::proto
