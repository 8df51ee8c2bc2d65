#include "kelvin/proto/json_text.hpp"
#include "kelvin/proto/status.hpp"

namespace kelvin::proto {

bool is_valid_release_check(std::string_view code) {
  if (code.empty() || code.size() > kMaxReleaseCheckBytes) return false;
  for (char c : code) {
    if ((c < 'a' || c > 'z') && c != '_') return false;
  }
  return true;
}

std::string encode_status(const StatusReport& report) {
  if (!report.online) return std::string(kOfflineStatusJson);
  std::string out = R"({"state":"online","fw":)";
  append_json_string(sendable_text(report.firmware, kMaxFirmwareVersionBytes), out);
  out += R"(,"dropped":)";
  append_json_number(report.dropped, out);
  if (report.oldest_seq) {
    out += R"(,"oldest_seq":)";
    append_json_number(*report.oldest_seq, out);
  }
  // An invalid code would have the whole status refused, drop count and floor with it.
  if (is_valid_release_check(report.release_check)) {
    out += R"(,"release_check":)";
    append_json_string(report.release_check, out);
  }
  out += '}';
  return out;
}

}  // namespace kelvin::proto
