#include "kelvin/proto/update_messages.hpp"

#include "json_reader.hpp"
#include "kelvin/proto/json_text.hpp"

namespace kelvin::proto {
namespace {

Error invalid_notice(std::string message) {
  return make_error(Errc::invalid_argument, "update notice: " + std::move(message));
}

// `{"rollout":…,"product":…,"version":…` — how both messages begin (the object left open).
std::string release_members(std::uint64_t rollout, const std::string& product, const FirmwareVersion& version) {
  std::string out = R"({"rollout":)";
  append_json_number(rollout, out);
  out += R"(,"product":)";
  append_json_string(product, out);
  out += R"(,"version":)";
  append_json_string(version.to_string(), out);
  return out;
}

}  // namespace

const char* to_string(UpdateState state) noexcept {
  switch (state) {
    case UpdateState::downloading:
      return "downloading";
    case UpdateState::installed:
      return "installed";
    case UpdateState::confirmed:
      return "confirmed";
    case UpdateState::failed:
      return "failed";
    case UpdateState::rolled_back:
      return "rolled_back";
  }
  return "?";
}

std::string encode_update_notice(const UpdateNotice& notice) {
  return release_members(notice.rollout, notice.product, notice.version) + '}';
}

Result<UpdateNotice> decode_update_notice(std::string_view json) {
  JsonReader in(json);
  UpdateNotice notice;
  std::string key, version;
  bool has_rollout = false, has_product = false, has_version = false;
  if (!in.begin_object()) return invalid_notice("not a JSON object");
  while (in.next_member(key)) {
    bool* seen = key == "rollout"   ? &has_rollout
                 : key == "product" ? &has_product
                 : key == "version" ? &has_version
                                    : nullptr;
    if (!seen) return invalid_notice("unknown member \"" + printable_excerpt(key, 40) + "\"");
    if (*seen) return invalid_notice("member \"" + key + "\" appears twice");
    *seen = true;
    const bool read = key == "rollout"   ? in.read_unsigned(notice.rollout)
                      : key == "product" ? in.read_string(notice.product)
                                         : in.read_string(version);
    if (!read) return invalid_notice("member \"" + key + "\" has the wrong type");
  }
  if (!in.finish()) return invalid_notice("not well-formed JSON, or something follows the object");
  if (!has_rollout || !has_product || !has_version) return invalid_notice("rollout, product and version are required");
  if (!is_valid_product_name(notice.product)) {
    return invalid_notice("\"" + printable_excerpt(notice.product, 64) + "\" is not a product name");
  }
  auto parsed = parse_firmware_version(version);
  if (!parsed) return invalid_notice(parsed.error().message);
  notice.version = *parsed;
  return notice;
}

std::string encode_update_status(const UpdateStatus& status) {
  std::string out = release_members(status.rollout, status.product, status.version);
  out += R"(,"state":)";
  append_json_string(to_string(status.state), out);
  out += R"(,"percent":)";
  append_json_number(status.percent < 0 ? 0 : status.percent > 100 ? 100 : status.percent, out);
  out += R"(,"reason":)";
  append_json_string(sendable_text(status.reason, 64), out);
  out += R"(,"detail":)";
  append_json_string(sendable_text(status.detail, kMaxUpdateDetailBytes), out);
  out += R"(,"running_version":)";
  append_json_string(status.running_version.to_string(), out);
  out += '}';
  return out;
}

}  // namespace kelvin::proto
