#pragma once
// Identities of devices and services. A device's id is the CN of its certificate, its MQTT
// username and client id, and a topic level (`devices/{id}/...`), so the grammar is strict:
// lowercase letters, digits, '_' and '-', starting with a letter or digit, 1..63 characters.
// That excludes MQTT wildcards ('+', '#'), the level separator '/', and anything a shell, a
// file system or a log line could misread. The prefix `svc-` is reserved for the platform's
// own services, so no device can ever hold a service's identity.

#include <string_view>

#include "kelvin/core/result.hpp"

namespace kelvin {

inline constexpr std::string_view kServicePrefix = "svc-";
inline constexpr std::size_t kMaxIdentityLength = 63;

// True when `id` matches ^[a-z0-9][a-z0-9_-]{0,62}$ (no reservation check).
bool is_well_formed_identity(std::string_view id) noexcept;

// A device id: well-formed and not in the reserved service namespace.
Result<void> validate_device_id(std::string_view id);

// A service name: well-formed and starting with `svc-` (e.g. `svc-gateway`).
Result<void> validate_service_name(std::string_view name);

}  // namespace kelvin
