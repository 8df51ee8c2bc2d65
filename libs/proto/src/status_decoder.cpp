#include <nlohmann/json.hpp>
#include <variant>

#include "kelvin/core/utf8.hpp"
#include "kelvin/proto/status.hpp"
#include "strict_json.hpp"

namespace kelvin::proto {

Result<StatusReport> decode_status(std::string_view payload) {
  auto invalid = [](std::string why) { return make_error(Errc::invalid_argument, "status: " + std::move(why)); };
  if (payload.size() > kMaxStatusBytes) return invalid("larger than " + std::to_string(kMaxStatusBytes) + " bytes");
  if (!is_valid_utf8(payload)) return invalid("not valid UTF-8");
  auto parsed = detail::parse_strict_json(payload);
  if (auto* refusal = std::get_if<detail::JsonRefusal>(&parsed)) return invalid(refusal->detail);
  const auto& json = std::get<nlohmann::json>(parsed);
  if (!json.is_object()) return invalid("not a JSON object");
  StatusReport report;
  auto state = json.find("state");
  if (state == json.end() || !state->is_string()) return invalid("'state' must be \"online\" or \"offline\"");
  const auto& state_name = state->get_ref<const std::string&>();
  if (state_name != "online" && state_name != "offline") return invalid("'state' must be \"online\" or \"offline\"");
  report.online = state_name == "online";
  if (auto fw = json.find("fw"); fw != json.end()) {
    if (!fw->is_string()) return invalid("'fw' must be a string");
    report.firmware = fw->get<std::string>();
    if (report.firmware.size() > kMaxFirmwareVersionBytes) return invalid("'fw' is too long");
    for (char c : report.firmware) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return invalid("'fw' contains control characters");
    }
  }
  if (auto dropped = json.find("dropped"); dropped != json.end()) {
    if (!dropped->is_number_unsigned()) return invalid("'dropped' must be a non-negative integer");
    report.dropped = dropped->get<std::uint64_t>();
  }
  if (auto oldest = json.find("oldest_seq"); oldest != json.end()) {
    if (!oldest->is_number_unsigned() || oldest->get<std::uint64_t>() == 0) {
      return invalid("'oldest_seq' must be an integer >= 1");
    }
    report.oldest_seq = oldest->get<std::uint64_t>();
  }
  if (auto check = json.find("release_check"); check != json.end()) {
    if (!check->is_string() || !is_valid_release_check(check->get_ref<const std::string&>())) {
      return invalid("'release_check' must be 1 to " + std::to_string(kMaxReleaseCheckBytes) +
                     " characters of a-z and '_'");
    }
    report.release_check = check->get<std::string>();
  }
  return report;
}

}  // namespace kelvin::proto
