#include "kelvin/alerts/alert_rule.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <utility>

namespace kelvin::alerts {
namespace {

constexpr std::array<std::pair<RuleKind, std::string_view>, 13> kKindNames{{
    {RuleKind::threshold, "threshold"},
    {RuleKind::device_offline, "device_offline"},
    {RuleKind::certificate_expiry, "certificate_expiry"},
    {RuleKind::crl_expiry, "crl_expiry"},
    {RuleKind::disk_space, "disk_space"},
    {RuleKind::export_backlog, "export_backlog"},
    {RuleKind::event_rate, "event_rate"},
    {RuleKind::update_failed, "update_failed"},
    {RuleKind::rollout_halted, "rollout_halted"},
    {RuleKind::outbox_drops, "outbox_drops"},
    {RuleKind::superseded_certificate, "superseded_certificate"},
    {RuleKind::device_acl_denials, "device_acl_denials"},
    {RuleKind::export_lag, "export_lag"},
}};

constexpr std::array<std::string_view, kGatewayEventCount> kEventNames{
    "failed_sign_ins", "rejected_readings",       "https_handshake_failures",
    "broker_exits",    "mqtt_handshake_failures", "acl_denials",
};

}  // namespace

std::string_view to_string(RuleKind kind) noexcept {
  for (const auto& [known, name] : kKindNames) {
    if (known == kind) return name;
  }
  return "unknown";
}

std::optional<RuleKind> parse_rule_kind(std::string_view name) noexcept {
  for (const auto& [kind, known] : kKindNames) {
    if (known == name) return kind;
  }
  return std::nullopt;
}

std::string_view to_string(GatewayEvent event) noexcept {
  return kEventNames[static_cast<std::size_t>(event)];
}

std::optional<GatewayEvent> parse_gateway_event(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kEventNames.size(); ++i) {
    if (kEventNames[i] == name) return static_cast<GatewayEvent>(i);
  }
  return std::nullopt;
}

bool is_valid_rule_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; });
}

bool DeviceScope::includes(std::string_view device, const std::vector<std::string>& labels) const {
  if (!devices.empty()) return std::binary_search(devices.begin(), devices.end(), device, std::less<>());
  if (!label.empty()) return std::find(labels.begin(), labels.end(), label) != labels.end();
  return true;
}

std::vector<AlertRule> default_rules() {
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  return {
      AlertRule{.name = "device_offline", .kind = RuleKind::device_offline, .silent_ms = 10 * 60'000},
      AlertRule{.name = "certificate_expiry",
                .kind = RuleKind::certificate_expiry,
                .level = {.above = false, .fire_at = 30, .clear_at = 30}},
      AlertRule{
          .name = "crl_expiry", .kind = RuleKind::crl_expiry, .level = {.above = false, .fire_at = 24, .clear_at = 24}},
      AlertRule{.name = "disk_space",
                .kind = RuleKind::disk_space,
                // 1.2 GiB in whole bytes: the API shows the level as the config file would take it.
                .level = {.above = false, .fire_at = 1 * kGiB, .clear_at = 1'288'490'189}},
      AlertRule{.name = "export_backlog",
                .kind = RuleKind::export_backlog,
                .for_ms = 5 * 60'000,
                .level = {.above = true, .fire_at = 1'000'000, .clear_at = 100'000}},
      // A small fleet's backlog takes hours to reach a million readings; the wait of the oldest
      // one says within minutes that the export is stuck (InfluxDB away, credentials refused).
      AlertRule{
          .name = "export_lag", .kind = RuleKind::export_lag, .level = {.above = true, .fire_at = 900, .clear_at = 60}},
      AlertRule{.name = "sign_in_attack",
                .kind = RuleKind::event_rate,
                .level = {.above = true, .fire_at = 30, .clear_at = 5},
                .event = GatewayEvent::failed_sign_ins},
      AlertRule{.name = "update_failed", .kind = RuleKind::update_failed},
      AlertRule{.name = "rollout_halted", .kind = RuleKind::rollout_halted},
      AlertRule{.name = "outbox_drops", .kind = RuleKind::outbox_drops, .quiet_ms = 3'600'000},
      // Any exit fires; the alert resolves a minute after the last one.
      AlertRule{.name = "broker_exits",
                .kind = RuleKind::event_rate,
                .level = {.above = true, .fire_at = 0, .clear_at = 0},
                .event = GatewayEvent::broker_exits},
      // A device never publishes or subscribes outside its own topics unless it is broken or
      // taken over: any denial fires, and the alert resolves a minute after the last one.
      AlertRule{.name = "acl_denials",
                .kind = RuleKind::event_rate,
                .level = {.above = true, .fire_at = 0, .clear_at = 0},
                .event = GatewayEvent::acl_denials},
      // A renewed device still on its old certificate: it would be cut off when that is revoked.
      AlertRule{.name = "superseded_certificate", .kind = RuleKind::superseded_certificate, .quiet_ms = 600'000},
  };
}

}  // namespace kelvin::alerts
