#pragma once
// Where kelvin-gateway keeps its files inside its state dir. Header-only (target
// kelvin::gateway_layout) so that kelvinctl finds them without linking the gateway and libmosquitto.

#include <filesystem>

namespace kelvin::gateway {

inline std::filesystem::path store_path(const std::filesystem::path& state_dir) {
  return state_dir / "telemetry.db";
}
// Users, sessions, the second factors and the audit log (kelvin/accounts/accounts.hpp).
inline std::filesystem::path accounts_path(const std::filesystem::path& state_dir) {
  return state_dir / "accounts.db";
}
// Firmware rollouts and every device's state in them (kelvin/store/rollout_db.hpp).
inline std::filesystem::path rollouts_path(const std::filesystem::path& state_dir) {
  return state_dir / "rollouts.db";
}
// Every alert raised, firing or resolved (kelvin/store/alert_db.hpp).
inline std::filesystem::path alerts_path(const std::filesystem::path& state_dir) {
  return state_dir / "alerts.db";
}
inline std::filesystem::path stats_path(const std::filesystem::path& state_dir) {
  return state_dir / "gateway-stats.json";
}
// The installation's release public key (docs/ota.md): the gateway accepts only releases it signed.
inline std::filesystem::path release_public_key_path(const std::filesystem::path& state_dir) {
  return state_dir / "release.pub";
}
// Published firmware releases (kelvin/release/release_catalog.hpp).
inline std::filesystem::path releases_path(const std::filesystem::path& state_dir) {
  return state_dir / "releases";
}
inline std::filesystem::path broker_state_path(const std::filesystem::path& state_dir) {
  return state_dir / "broker";
}

}  // namespace kelvin::gateway
