#include "kelvin/proto/topics.hpp"

#include <array>
#include <utility>

#include "kelvin/core/identity.hpp"

namespace kelvin::proto {
namespace {

constexpr std::string_view kPrefix = "devices/";
constexpr std::array<std::pair<DeviceTopic, std::string_view>, 5> kSuffixes = {{
    {DeviceTopic::telemetry, "telemetry"},
    {DeviceTopic::ack, "ack"},
    {DeviceTopic::status, "status"},
    {DeviceTopic::ota, "ota"},
    {DeviceTopic::ota_status, "ota/status"},
}};

}  // namespace

std::string device_topic(std::string_view device_id, DeviceTopic topic) {
  std::string out(kPrefix);
  out += device_id;
  out += '/';
  for (const auto& [kind, suffix] : kSuffixes) {
    if (kind == topic) out += suffix;
  }
  return out;
}

std::optional<ParsedDeviceTopic> parse_device_topic(std::string_view topic) {
  if (!topic.starts_with(kPrefix)) return std::nullopt;
  topic.remove_prefix(kPrefix.size());
  auto slash = topic.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view device_id = topic.substr(0, slash);
  std::string_view rest = topic.substr(slash + 1);
  if (!validate_device_id(device_id)) return std::nullopt;
  for (const auto& [kind, suffix] : kSuffixes) {
    if (rest == suffix) return ParsedDeviceTopic{device_id, kind};
  }
  return std::nullopt;
}

}  // namespace kelvin::proto
