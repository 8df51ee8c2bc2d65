#pragma once
// What an alert rule says (docs/alerts.md): the kinds of condition the gateway watches, the levels
// with hysteresis that most of them compare against, and the rules a gateway watches when its
// configuration names none. Plain data: the gateway's config loader fills it, alert_conditions.hpp
// evaluates it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/proto/telemetry.hpp"

namespace kelvin::alerts {

enum class RuleKind {
  threshold,           // a device's quantity above or below a level
  device_offline,      // a device's last will arrived, or it sent nothing for a while
  certificate_expiry,  // a certificate in use (CA, server, service, device) expires within days
  crl_expiry,          // the CRL's next update is within hours (the broker then refuses everyone)
  disk_space,          // the free space of the gateway's state directory is low
  export_backlog,      // readings stored but not yet exported to InfluxDB pile up
  event_rate,          // a kind of refusal (failed sign-ins, rejected readings, ...) comes fast: an attack
  update_failed,       // a device's firmware update failed or rolled back
  rollout_halted,      // a rollout stopped itself: too many of its devices failed
  outbox_drops,        // a device reported readings its full outbox had to drop
  // A device connected with a certificate that is no longer its newest (renewed, still valid):
  // the one that is revoked next, or a copy of an old key in use.
  superseded_certificate,
  device_acl_denials,  // the broker's ACL refused a device's publishes or deliveries: broken or taken over
  export_lag,          // the oldest reading waiting for InfluxDB has waited long: the export is stuck
};

// The events an event_rate rule counts, as the gateway counts them (docs/alerts.md).
enum class GatewayEvent {
  failed_sign_ins,           // sign-ins refused (wrong password or code, too many attempts)
  rejected_readings,         // readings and statuses refused by validation
  https_handshake_failures,  // TLS handshakes refused: no, a revoked or a foreign client certificate
  broker_exits,              // the managed broker exited without being asked to (the gateway restarts it)
  mqtt_handshake_failures,   // TLS handshakes the managed broker refused: no, a revoked or a foreign certificate
  acl_denials,               // publishes and deliveries the managed broker's ACL refused (its kelvin plugin)
};
inline constexpr std::size_t kGatewayEventCount = 6;
std::string_view to_string(GatewayEvent event) noexcept;
std::optional<GatewayEvent> parse_gateway_event(std::string_view name) noexcept;

// The names the configuration, the API and alerts.db use ("device_offline").
std::string_view to_string(RuleKind kind) noexcept;
std::optional<RuleKind> parse_rule_kind(std::string_view name) noexcept;

// A rule name: 1 to 64 characters of a-z, 0-9, '_' and '-' (it appears in URLs, logs and metrics'
// labels unescaped).
bool is_valid_rule_name(std::string_view name) noexcept;

// A level crossed on one side fires, and clears only once the value is back beyond `clear_at`, so
// a value wavering around `fire_at` does not fire and resolve over and over (hysteresis).
// `clear_at` lies on the safe side of `fire_at`, or equals it for no hysteresis.
struct Level {
  bool above = true;  // true: a value above fire_at fires; false: a value below it
  double fire_at = 0;
  double clear_at = 0;

  bool breached(double value) const noexcept { return above ? value > fire_at : value < fire_at; }
  bool cleared(double value) const noexcept { return above ? value <= clear_at : value >= clear_at; }
  // Whether clear_at lies on the safe side of fire_at (or equals it).
  bool is_consistent() const noexcept { return above ? clear_at <= fire_at : clear_at >= fire_at; }
};

// Which devices a device rule watches: every device (both empty), the listed ones, or those
// carrying `label` (at each evaluation: labelling a device later brings it in).
struct DeviceScope {
  // Sorted, without repeats (the config reader keeps them so): includes() looks each device of the
  // fleet up at every evaluation, by binary search.
  std::vector<std::string> devices{};
  std::string label{};

  bool includes(std::string_view device, const std::vector<std::string>& labels) const;
};

struct AlertRule {
  std::string name{};
  RuleKind kind = RuleKind::threshold;
  // The condition must hold this long, at every evaluation, before the alert fires; 0 fires at the
  // first evaluation that sees it.
  std::int64_t for_ms = 0;
  // threshold, device_offline, update_failed, outbox_drops, superseded_certificate, device_acl_denials
  DeviceScope scope{};
  proto::Quantity quantity = proto::Quantity::temperature;  // threshold
  // threshold: the quantity's value; certificate_expiry: days left; crl_expiry: hours left;
  // disk_space: bytes free; export_backlog: readings waiting; export_lag: seconds the oldest
  // waited; event_rate: events per minute.
  // Unused by device_offline.
  Level level{};
  std::int64_t silent_ms = 0;  // device_offline: nothing arrived for this long
  // outbox_drops, device_acl_denials, superseded_certificate: clears after this long without one
  std::int64_t quiet_ms = 0;
  GatewayEvent event = GatewayEvent::failed_sign_ins;  // event_rate: what is counted, per minute
};

// The rules a gateway watches when its configuration names none (docs/alerts.md): devices offline
// or silent for 10 minutes, certificates expiring within 30 days, a CRL due within 24 hours, less
// than 1 GiB free (clearing above 1.2 GiB), more than a million readings waiting for export, a
// reading waiting for export longer than 15 minutes, more than 30 failed sign-ins a minute, a
// failed update, a halted rollout, readings a device's outbox dropped in the last hour, the managed
// broker exiting, any ACL denial, and a device connected with a superseded certificate.
std::vector<AlertRule> default_rules();

}  // namespace kelvin::alerts
