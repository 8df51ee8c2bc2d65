#include "kelvin/rollout/ota_messages.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "kelvin/proto/release_manifest.hpp"
#include "kelvin/proto/update_messages.hpp"

namespace kelvin::rollout {
namespace {

using nlohmann::json;

Error refused(const std::string& why) {
  return make_error(Errc::invalid_argument, why);
}

// At most 64 characters, as the device side sends it (proto::encode_update_status).
bool is_reason_code(std::string_view reason) {
  if (reason.size() > 64) return false;
  for (char c : reason) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

// Parses `payload`; discarded when it is not JSON or an object names a member twice (at any depth:
// the wire protocol's rule for every payload, which nlohmann alone would let pass, keeping the last).
json parse_strict(std::string_view payload) {
  std::vector<std::set<std::string>> keys;
  bool duplicate = false;
  json::parser_callback_t check = [&](int depth, json::parse_event_t event, json& parsed) {
    (void)depth;
    if (event == json::parse_event_t::object_start) keys.emplace_back();
    if (event == json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
    if (event == json::parse_event_t::key && !keys.empty() && !keys.back().insert(parsed.get<std::string>()).second) {
      duplicate = true;
    }
    return true;
  };
  json body = json::parse(payload, check, /*allow_exceptions=*/false);
  return duplicate ? json(json::value_t::discarded) : body;
}

}  // namespace

std::string encode_notice(std::int64_t rollout, std::string_view product, std::string_view version) {
  // The devices' own encoding (proto/update_messages.hpp). A rollout's version was checked when it
  // was started, so it parses.
  auto parsed = proto::parse_firmware_version(version);
  return proto::encode_update_notice({static_cast<std::uint64_t>(std::max<std::int64_t>(rollout, 0)),
                                      std::string(product), parsed ? *parsed : proto::FirmwareVersion{}});
}

Result<DeviceReport> decode_report(std::string_view payload) {
  if (payload.size() > kMaxReportBytes) {
    return refused("larger than " + std::to_string(kMaxReportBytes) + " bytes");
  }
  const json body = parse_strict(payload);
  if (body.is_discarded() || !body.is_object()) return refused("not one JSON object with each member once");
  DeviceReport report;
  bool has_product = false, has_version = false, has_state = false;
  for (const auto& [name, value] : body.items()) {
    if (name == "rollout") {
      if (!value.is_number_integer() || value.get<std::int64_t>() < 0) {
        return refused("\"rollout\" must be a non-negative integer");
      }
      report.rollout = value.get<std::int64_t>();
    } else if (name == "percent") {
      if (!value.is_number_integer() || value.get<std::int64_t>() < 0 || value.get<std::int64_t>() > 100) {
        return refused("\"percent\" must be an integer from 0 to 100");
      }
      report.percent = value.get<int>();
    } else if (!value.is_string()) {
      return refused("\"" + name + "\" is not a member of a status, or not a string");
    } else if (name == "product") {
      report.product = value.get<std::string>();
      if (!proto::is_valid_product_name(report.product)) return refused("\"product\" is not a product name");
      has_product = true;
    } else if (name == "version") {
      report.version = value.get<std::string>();
      if (!proto::parse_firmware_version(report.version)) return refused("\"version\" is not MAJOR.MINOR.PATCH");
      has_version = true;
    } else if (name == "state") {
      const auto state = store::parse_device_rollout_state(value.get<std::string>());
      if (!state || *state == DeviceRolloutState::pending || *state == DeviceRolloutState::notified) {
        return refused("\"state\" must be downloading, installed, confirmed, failed or rolled_back");
      }
      report.state = *state;
      has_state = true;
    } else if (name == "reason") {
      report.reason = value.get<std::string>();
      if (!is_reason_code(report.reason)) return refused("\"reason\" must be a short code of a-z, 0-9, _ and -");
    } else if (name == "detail") {
      report.detail = value.get<std::string>();
      if (report.detail.size() > kMaxReportDetailBytes) {
        return refused("\"detail\" is longer than " + std::to_string(kMaxReportDetailBytes) + " bytes");
      }
    } else if (name == "running_version") {
      report.running_version = value.get<std::string>();
      if (report.running_version.size() > 32) return refused("\"running_version\" is longer than 32 characters");
    } else {
      return refused("\"" + name + "\" is not a member of a status");
    }
  }
  if (!has_product || !has_version || !has_state) return refused("\"product\", \"version\" and \"state\" are required");
  return report;
}

}  // namespace kelvin::rollout
