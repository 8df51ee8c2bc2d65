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

// Device labels (docs/registry.md, "Labels"): short names an operator gives devices to address
// them as a group (a rollout to a label). A label is 1..64 characters of lowercase letters,
// digits, '.', '_' and '-', starting with a letter or digit: safe in a URL query, a shell, a
// file name and a log line without quoting. A device carries at most kMaxLabelsPerDevice.
inline constexpr std::size_t kMaxLabelLength = 64;
inline constexpr std::size_t kMaxLabelsPerDevice = 32;

// True when `label` matches ^[a-z0-9][a-z0-9._-]{0,63}$.
bool is_well_formed_label(std::string_view label) noexcept;

// Errc::invalid_argument, naming the label and the grammar, unless is_well_formed_label.
Result<void> validate_label(std::string_view label);

}  // namespace kelvin
