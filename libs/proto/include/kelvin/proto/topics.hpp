#pragma once
// MQTT topics of the wire protocol. `{id}` is the device id (the certificate's CN), whose grammar
// (kelvin/core/identity.hpp) excludes '/', '+' and '#', so a topic built here is never ambiguous.

#include <optional>
#include <string>
#include <string_view>

namespace kelvin::proto {

enum class DeviceTopic { telemetry, ack, status, ota, ota_status };

// "devices/{id}/telemetry" etc. Precondition: `device_id` is a valid device id.
std::string device_topic(std::string_view device_id, DeviceTopic topic);

// The gateway's subscription for every device's telemetry.
inline constexpr std::string_view kAllTelemetryFilter = "devices/+/telemetry";

struct ParsedDeviceTopic {
  std::string_view device_id;  // a view into the parsed topic
  DeviceTopic topic;
};

// Splits a topic of the form above; nullopt for anything else, including an invalid device id.
std::optional<ParsedDeviceTopic> parse_device_topic(std::string_view topic);

}  // namespace kelvin::proto
