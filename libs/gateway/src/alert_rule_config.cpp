#include "kelvin/gateway/alert_rule_config.hpp"

#include <algorithm>
#include <cstdint>
#include <string>

#include "kelvin/config/config_document.hpp"
#include "kelvin/core/identity.hpp"

namespace kelvin::gateway {
namespace {

constexpr std::size_t kMaxScopeDevices = 1000;

// A rule's devices: a list of device ids, a label, or neither (every device).
alerts::DeviceScope read_device_scope(config::TableReader& table) {
  alerts::DeviceScope scope;
  scope.devices = table.strings("devices", {});
  // Each device of the fleet is looked up in the list at each evaluation; a label scales.
  if (scope.devices.size() > kMaxScopeDevices) {
    table.add_issue("devices", "at most " + std::to_string(kMaxScopeDevices) + " devices; give a label for more");
  }
  for (const auto& device : scope.devices) {
    if (auto valid = validate_device_id(device); !valid) table.add_issue("devices", valid.error().message);
  }
  std::sort(scope.devices.begin(), scope.devices.end());  // DeviceScope's order
  scope.devices.erase(std::unique(scope.devices.begin(), scope.devices.end()), scope.devices.end());
  scope.label = table.string("label", "");
  if (!scope.label.empty()) {
    if (auto valid = validate_label(scope.label); !valid) table.add_issue("label", valid.error().message);
  }
  if (!scope.devices.empty() && !scope.label.empty()) table.add_issue("label", "give devices or a label, not both");
  return scope;
}

// A level of `rule` from `fire_key` and `clear_key` (which defaults to the fire level: no hysteresis).
void read_level(config::TableReader& table, alerts::AlertRule& rule, bool above, std::string_view fire_key,
                std::string_view clear_key, double fallback, double min, double max) {
  rule.level.above = above;
  rule.level.fire_at = table.number(fire_key, fallback, min, max);
  rule.level.clear_at = table.number(clear_key, rule.level.fire_at, min, max);
  if (!rule.level.is_consistent()) {
    table.add_issue(clear_key, std::string("must be ") + (above ? "at or below " : "at or above ") +
                                   std::string(fire_key) + " (the level where the alert resolves)");
  }
}

}  // namespace

// One [[alerts.rule]]: the keys its kind takes; any other key is reported as unknown.
alerts::AlertRule read_alert_rule(config::TableReader& table) {
  alerts::AlertRule rule;
  rule.name = table.required_string("name");
  if (!rule.name.empty() && !alerts::is_valid_rule_name(rule.name)) {
    table.add_issue("name", "must be 1 to 64 characters of a-z, 0-9, '_' and '-'");
  }
  const std::string kind =
      table.required_one_of("kind", {"threshold", "device_offline", "certificate_expiry", "crl_expiry", "disk_space",
                                     "export_backlog", "event_rate", "update_failed", "rollout_halted", "outbox_drops",
                                     "superseded_certificate", "device_acl_denials", "export_lag"});
  rule.kind = alerts::parse_rule_kind(kind).value_or(alerts::RuleKind::threshold);
  rule.for_ms = table.integer("for_s", std::int64_t{0}, 0, 7 * 86'400) * 1000;
  switch (rule.kind) {
    case alerts::RuleKind::threshold: {
      rule.scope = read_device_scope(table);
      const std::string quantity = table.required_one_of("quantity", {"temperature", "humidity"});
      rule.quantity = proto::parse_quantity(quantity).value_or(proto::Quantity::temperature);
      const bool above = table.contains("above");
      if (above == table.contains("below")) table.add_issue("give exactly one of above and below");
      read_level(table, rule, above, above ? "above" : "below", "clear", 0, -1e9, 1e9);
      break;
    }
    case alerts::RuleKind::device_offline:
      rule.scope = read_device_scope(table);
      rule.silent_ms = table.integer("silent_for_s", std::int64_t{600}, 10, 30 * 86'400) * 1000;
      break;
    case alerts::RuleKind::certificate_expiry:
      read_level(table, rule, false, "within_days", "clear_days", 30, 1, 3650);
      break;
    case alerts::RuleKind::crl_expiry:
      read_level(table, rule, false, "within_hours", "clear_hours", 24, 1, 8760);
      break;
    case alerts::RuleKind::disk_space:
      read_level(table, rule, false, "below_bytes", "clear_bytes", 1024.0 * 1024 * 1024, 0, 1e18);
      break;
    case alerts::RuleKind::export_backlog:
      read_level(table, rule, true, "above_readings", "clear_readings", 1'000'000, 1, 1e15);
      break;
    case alerts::RuleKind::export_lag:
      read_level(table, rule, true, "above_s", "clear_s", 900, 1, 30 * 86'400);
      break;
    case alerts::RuleKind::event_rate: {
      const std::string event =
          table.required_one_of("event", {"failed_sign_ins", "rejected_readings", "https_handshake_failures",
                                          "broker_exits", "mqtt_handshake_failures", "acl_denials"});
      rule.event = alerts::parse_gateway_event(event).value_or(alerts::GatewayEvent::failed_sign_ins);
      read_level(table, rule, true, "above_per_minute", "clear_per_minute", 30, 0, 1e9);
      break;
    }
    case alerts::RuleKind::update_failed:
      rule.scope = read_device_scope(table);
      break;
    case alerts::RuleKind::rollout_halted:
      break;
    case alerts::RuleKind::outbox_drops:
      rule.scope = read_device_scope(table);
      rule.quiet_ms = table.integer("quiet_for_s", std::int64_t{3600}, 10, 30 * 86'400) * 1000;
      break;
    case alerts::RuleKind::superseded_certificate:
    case alerts::RuleKind::device_acl_denials:
      rule.scope = read_device_scope(table);
      rule.quiet_ms = table.integer("quiet_for_s", std::int64_t{600}, 10, 30 * 86'400) * 1000;
      break;
  }
  return rule;
}

Result<alerts::AlertRule> parse_alert_rule_json(std::string_view json_text) {
  auto document = config::ConfigDocument::from_json(json_text);
  if (!document) return std::move(document).error();
  config::TableReader table = document->root();
  alerts::AlertRule rule = read_alert_rule(table);
  if (auto done = document->finish(); !done) return std::move(done).error();
  return rule;
}

}  // namespace kelvin::gateway
