#include "kelvin/proto/json_text.hpp"
#include "kelvin/proto/status.hpp"

namespace kelvin::proto {

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
  out += '}';
  return out;
}

}  // namespace kelvin::proto
