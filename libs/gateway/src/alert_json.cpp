#include "alert_json.hpp"

#include <optional>
#include <string>

#include "json_time.hpp"

namespace kelvin::gateway {

nlohmann::json alert_json(const store::AlertRecord& a) {
  using nlohmann::json;
  json out{{"id", a.id},
           {"rule", a.rule},
           {"kind", a.kind},
           {"subject", a.subject},
           {"state", store::to_string(a.state)},
           {"value", a.value ? json(*a.value) : json(nullptr)},
           {"summary", a.summary},
           {"resolution", a.resolution},
           {"acknowledged_by", a.acknowledged_by.empty() ? json(nullptr) : json(a.acknowledged_by)}};
  add_time(out, "started", a.started_ms);
  add_time(out, "ended", a.ended_ms);
  add_time(out, "acknowledged", a.acknowledged_ms);
  return out;
}

nlohmann::json silence_json(const store::SilenceRecord& s) {
  nlohmann::json out{
      {"id", s.id}, {"rule", s.rule}, {"subject", s.subject}, {"created_by", s.created_by}, {"comment", s.comment}};
  add_time(out, "until", s.until_ms);
  add_time(out, "created", s.created_ms);
  return out;
}

namespace {

// The keys of a level: the fire level's and, when it differs, the clear level's.
void add_level(nlohmann::json& out, const alerts::Level& level, const char* fire_key, const char* clear_key) {
  out[fire_key] = level.fire_at;
  if (level.clear_at != level.fire_at) out[clear_key] = level.clear_at;
}

void add_scope(nlohmann::json& out, const alerts::DeviceScope& scope) {
  if (!scope.devices.empty()) out["devices"] = scope.devices;
  if (!scope.label.empty()) out["label"] = scope.label;
}

}  // namespace

nlohmann::json rule_json(const alerts::AlertRule& rule) {
  using alerts::RuleKind;
  nlohmann::json out{{"name", rule.name}, {"kind", alerts::to_string(rule.kind)}};
  if (rule.for_ms > 0) out["for_s"] = rule.for_ms / 1000;
  switch (rule.kind) {
    case RuleKind::threshold:
      add_scope(out, rule.scope);
      out["quantity"] = proto::info(rule.quantity).name;
      add_level(out, rule.level, rule.level.above ? "above" : "below", "clear");
      break;
    case RuleKind::device_offline:
      add_scope(out, rule.scope);
      out["silent_for_s"] = rule.silent_ms / 1000;
      break;
    case RuleKind::certificate_expiry:
      add_level(out, rule.level, "within_days", "clear_days");
      break;
    case RuleKind::crl_expiry:
      add_level(out, rule.level, "within_hours", "clear_hours");
      break;
    case RuleKind::disk_space:
      add_level(out, rule.level, "below_bytes", "clear_bytes");
      break;
    case RuleKind::export_backlog:
      add_level(out, rule.level, "above_readings", "clear_readings");
      break;
    case RuleKind::export_lag:
      add_level(out, rule.level, "above_s", "clear_s");
      break;
    case RuleKind::event_rate:
      out["event"] = alerts::to_string(rule.event);
      add_level(out, rule.level, "above_per_minute", "clear_per_minute");
      break;
    case RuleKind::update_failed:
      add_scope(out, rule.scope);
      break;
    case RuleKind::rollout_halted:
      break;
    case RuleKind::outbox_drops:
    case RuleKind::device_acl_denials:
    case RuleKind::superseded_certificate:
      add_scope(out, rule.scope);
      out["quiet_for_s"] = rule.quiet_ms / 1000;
      break;
  }
  return out;
}

}  // namespace kelvin::gateway
