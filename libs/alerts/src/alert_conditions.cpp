#include "kelvin/alerts/alert_conditions.hpp"

#include <cmath>
#include <cstdio>
#include <map>
#include <string_view>

namespace kelvin::alerts {
namespace {

constexpr double kMsPerDay = 86'400'000.0;
constexpr double kMsPerHour = 3'600'000.0;
constexpr double kBytesPerMiB = 1024.0 * 1024.0;

// A number for people: at most one decimal, none when whole ("30", "31.2").
std::string number(double value) {
  char text[64];
  const double rounded = std::round(value * 10.0) / 10.0;
  std::snprintf(text, sizeof text, rounded == std::floor(rounded) ? "%.0f" : "%.1f", rounded);
  return text;
}

// `value` as number() says it, followed by `unit`. A unit that is a plural word (" days",
// " readings") is said in the singular after exactly 1 or -1: "expires in 1 day".
std::string quantity(double value, std::string_view unit) {
  const std::string said = number(value);
  const bool one = said == "1" || said == "-1";
  if (one && unit.size() > 1 && unit.back() == 's') unit.remove_suffix(1);
  return said + std::string(unit);
}

// How a level judges `value`, with a summary for people: what was measured (`shown`, `value` divided
// by `scale`, in `unit`) and the level that decided the verdict.
Observation judge(const Level& level, double value, std::string subject, std::string_view what, double shown,
                  double scale, std::string_view unit) {
  Observation observation{.subject = std::move(subject), .value = value};
  const std::string said = std::string(what) + " " + quantity(shown, unit);
  const auto as_shown = [&](double level_value) { return quantity(level_value / scale, unit); };
  if (level.breached(value)) {
    observation.verdict = Verdict::breach;
    observation.summary = said + (level.above ? " (fires above " : " (fires below ") + as_shown(level.fire_at) + ")";
  } else {
    observation.verdict = level.cleared(value) ? Verdict::clear : Verdict::hold;
    observation.summary =
        said + (level.above ? " (clears at or below " : " (clears at or above ") + as_shown(level.clear_at) + ")";
  }
  return observation;
}

std::string_view event_words(GatewayEvent event) {
  switch (event) {
    case GatewayEvent::failed_sign_ins:
      return "failed sign-ins";
    case GatewayEvent::rejected_readings:
      return "rejected readings and statuses";
    case GatewayEvent::https_handshake_failures:
      return "refused HTTPS handshakes";
    case GatewayEvent::broker_exits:
      return "broker exits";
    case GatewayEvent::mqtt_handshake_failures:
      return "refused MQTT handshakes";
    case GatewayEvent::acl_denials:
      return "ACL denials";
  }
  return "events";
}

void observe_threshold(const AlertRule& rule, const Facts& facts, std::vector<Observation>& out) {
  const proto::QuantityInfo& quantity = proto::info(rule.quantity);
  const std::string unit = " " + std::string(quantity.unit);
  for (const DeviceFacts& device : facts.devices) {
    if (!rule.scope.includes(device.id, device.labels)) continue;
    const auto& window = device.window[static_cast<std::size_t>(rule.quantity)];
    if (!window) {
      out.push_back({.subject = device.id, .verdict = Verdict::unknown});
      continue;
    }
    // The reading furthest on the firing side speaks for the window: a spike between evaluations
    // is not missed, and the alert clears only when every reading is back.
    const double value = rule.level.above ? window->max : window->min;
    out.push_back(judge(rule.level, value, device.id, quantity.name, value, 1.0, unit));
  }
}

void observe_offline(const AlertRule& rule, const Facts& facts, std::vector<Observation>& out) {
  for (const DeviceFacts& device : facts.devices) {
    if (!rule.scope.includes(device.id, device.labels)) continue;
    const std::int64_t since = device.last_seen_ms.value_or(device.known_since_ms);
    const double silent_s = static_cast<double>(facts.now_ms - since) / 1000.0;
    Observation observation{.subject = device.id, .value = silent_s};
    if (device.last_will) {
      observation.verdict = Verdict::breach;
      observation.summary = "offline: its last will arrived " + number(silent_s) + " s ago";
    } else if (facts.now_ms - since >= rule.silent_ms) {
      observation.verdict = Verdict::breach;
      observation.summary = "nothing received for " + number(silent_s) + " s";
    } else {
      observation.verdict = Verdict::clear;
      observation.summary = "heard from " + number(silent_s) + " s ago";
    }
    out.push_back(std::move(observation));
  }
}

void observe_certificates(const AlertRule& rule, const Facts& facts, std::vector<Observation>& out) {
  for (const CertificateFacts& certificate : *facts.certificates) {
    const double days_left = static_cast<double>(certificate.not_after_ms - facts.now_ms) / kMsPerDay;
    out.push_back(judge(rule.level, days_left, certificate.name, certificate.kind + " certificate expires in",
                        days_left, 1.0, " days"));
  }
}

// Every device in scope: a breach for one whose newest update failed, clear for the others (so an
// alert resolves as "condition cleared" when the device is in a newer rollout or the one it failed
// in was aborted).
void observe_failed_updates(const AlertRule& rule, const Facts& facts, std::vector<Observation>& out) {
  std::map<std::string_view, const FailedUpdateFacts*> failed;
  for (const FailedUpdateFacts& update : facts.updates->failed) failed.emplace(update.device, &update);
  for (const DeviceFacts& device : facts.devices) {
    if (!rule.scope.includes(device.id, device.labels)) continue;
    const auto found = failed.find(device.id);
    if (found == failed.end()) {
      out.push_back({.subject = device.id, .verdict = Verdict::clear, .summary = "no failed update"});
      continue;
    }
    const FailedUpdateFacts& update = *found->second;
    std::string summary = "update to " + update.release + " in rollout " + std::to_string(update.rollout) + " " +
                          (update.outcome == "rolled_back" ? "rolled back" : "failed");
    if (!update.reason.empty()) summary += " (" + update.reason + ")";
    out.push_back({.subject = device.id,
                   .verdict = Verdict::breach,
                   .value = static_cast<double>(update.rollout),
                   .summary = std::move(summary)});
  }
}

void observe_rollouts(const Facts& facts, std::vector<Observation>& out) {
  for (const RolloutFacts& rollout : facts.updates->rollouts) {
    std::string summary = "rollout " + std::to_string(rollout.id) + " of " + rollout.release +
                          (rollout.halted ? " halted: " : " not halted: ") + std::to_string(rollout.failures) + " of " +
                          std::to_string(rollout.devices) + " devices failed or rolled back";
    out.push_back({.subject = rollout_subject(rollout.id),
                   .verdict = rollout.halted ? Verdict::breach : Verdict::clear,
                   .value = static_cast<double>(rollout.failures),
                   .summary = std::move(summary)});
  }
}

// How a growing count is said: "its outbox dropped 12 readings 40 s ago (37 in all)", and, clear,
// "no readings dropped for 3600 s".
struct GrowthWords {
  std::string_view grew_before;  // "its outbox dropped "
  std::string_view grew_after;   // " readings "
  std::string_view none_for;     // "no readings dropped for "
};

// A breach while the device's count (`growth` of it) grew within the rule's quiet time.
void observe_growth(const AlertRule& rule, const Facts& facts, CountGrowth DeviceFacts::*growth,
                    const GrowthWords& words, std::vector<Observation>& out) {
  for (const DeviceFacts& device : facts.devices) {
    if (!rule.scope.includes(device.id, device.labels)) continue;
    const CountGrowth& count = device.*growth;
    Observation observation{.subject = device.id, .value = static_cast<double>(count.total)};
    if (count.grew_ms && facts.now_ms - *count.grew_ms < rule.quiet_ms) {
      observation.verdict = Verdict::breach;
      observation.summary = std::string(words.grew_before) + std::to_string(count.grew_by) +
                            std::string(words.grew_after) +
                            number(static_cast<double>(facts.now_ms - *count.grew_ms) / 1000.0) + " s ago (" +
                            std::to_string(count.total) + " in all)";
    } else {
      observation.verdict = Verdict::clear;
      observation.summary = std::string(words.none_for) + number(static_cast<double>(rule.quiet_ms) / 1000.0) + " s";
    }
    out.push_back(std::move(observation));
  }
}

// Every device in scope that was seen connecting: a breach while its latest connection used a
// certificate issued to it before its newest one that the broker still accepts, or while one of its
// connections within the rule's quiet time did (a copy of an old key taking turns with the device).
void observe_superseded_certificates(const AlertRule& rule, const Facts& facts, std::vector<Observation>& out) {
  std::map<std::string_view, const CertificateFacts*> newest;
  for (const CertificateFacts& certificate : *facts.certificates) {
    if (certificate.kind == "device") newest.emplace(certificate.name, &certificate);
  }
  for (const DeviceFacts& device : facts.devices) {
    if (!rule.scope.includes(device.id, device.labels)) continue;
    if (!device.connection_serial) {
      out.push_back({.subject = device.id, .verdict = Verdict::unknown});
      continue;
    }
    const std::string& latest = *device.connection_serial;
    const auto found = newest.find(device.id);
    const CertificateFacts* certificate = found == newest.end() ? nullptr : found->second;
    // The certificate of `serial` if it is one the broker still accepts besides the newest.
    const auto still_accepted = [&](std::string_view serial) -> const SupersededCertificate* {
      if (!certificate || serial == certificate->serial) return nullptr;
      for (const SupersededCertificate& old : certificate->superseded) {
        if (old.serial == serial && old.not_after_ms > facts.now_ms) return &old;
      }
      return nullptr;
    };
    const auto breach = [&](const SupersededCertificate& old, const std::string& connected) {
      const double days_left = static_cast<double>(old.not_after_ms - facts.now_ms) / kMsPerDay;
      out.push_back({.subject = device.id,
                     .verdict = Verdict::breach,
                     .value = days_left,
                     .summary = connected + ", superseded by " + certificate->serial +
                                " (valid until revoked, or for " + quantity(days_left, " days") + ")"});
    };
    if (const SupersededCertificate* old = still_accepted(latest)) {
      breach(*old, "connected with certificate " + latest);
      continue;
    }
    // The most recent connection with another accepted old certificate, within the quiet time.
    const std::pair<const std::string, std::int64_t>* recent = nullptr;
    for (const auto& seen : device.connection_serials_seen_ms) {
      if (facts.now_ms - seen.second >= rule.quiet_ms || !still_accepted(seen.first)) continue;
      if (!recent || seen.second > recent->second) recent = &seen;
    }
    if (recent) {
      breach(*still_accepted(recent->first), "connected with certificate " + recent->first + " " +
                                                 number(static_cast<double>(facts.now_ms - recent->second) / 1000.0) +
                                                 " s ago (latest: " + latest + ")");
      continue;
    }
    out.push_back({.subject = device.id,
                   .verdict = Verdict::clear,
                   .summary = certificate && latest == certificate->serial
                                  ? "connected with its newest certificate " + latest
                                  : "its certificate " + latest + " is no longer valid"});
  }
}

}  // namespace

std::string rollout_subject(std::int64_t rollout) {
  return "rollout-" + std::to_string(rollout);
}

std::optional<std::vector<Observation>> observe(const AlertRule& rule, const Facts& facts) {
  std::vector<Observation> out;
  const GatewayFacts& gateway = facts.gateway;
  const std::string subject(kGatewaySubject);
  switch (rule.kind) {
    case RuleKind::threshold:
      observe_threshold(rule, facts, out);
      break;
    case RuleKind::device_offline:
      observe_offline(rule, facts, out);
      break;
    case RuleKind::certificate_expiry:
      if (!facts.certificates) return std::nullopt;
      observe_certificates(rule, facts, out);
      break;
    case RuleKind::crl_expiry:
      if (!gateway.crl_next_update_ms) {
        out.push_back({.subject = subject, .verdict = Verdict::unknown});
      } else {
        const double hours_left = static_cast<double>(*gateway.crl_next_update_ms - facts.now_ms) / kMsPerHour;
        out.push_back(judge(rule.level, hours_left, subject, "the CRL's next update is due in", hours_left, 1.0, " h"));
      }
      break;
    case RuleKind::disk_space:
      if (!gateway.free_bytes) {
        out.push_back({.subject = subject, .verdict = Verdict::unknown});
      } else {
        const auto free_bytes = static_cast<double>(*gateway.free_bytes);
        out.push_back(
            judge(rule.level, free_bytes, subject, "free space", free_bytes / kBytesPerMiB, kBytesPerMiB, " MiB"));
      }
      break;
    case RuleKind::event_rate: {
      const auto& rate = gateway.events_per_minute[static_cast<std::size_t>(rule.event)];
      if (!rate) {
        out.push_back({.subject = subject, .verdict = Verdict::unknown});
      } else {
        out.push_back(judge(rule.level, *rate, subject, event_words(rule.event), *rate, 1.0, " per minute"));
      }
      break;
    }
    case RuleKind::export_backlog:
      // No exporter: nothing can pile up, so nothing is observed and nothing fires.
      if (gateway.export_backlog) {
        const auto backlog = static_cast<double>(*gateway.export_backlog);
        out.push_back(judge(rule.level, backlog, subject, "export backlog", backlog, 1.0, " readings"));
      }
      break;
    case RuleKind::export_lag:
      // Likewise: no exporter, nothing waits.
      if (gateway.export_lag_s) {
        out.push_back(judge(rule.level, *gateway.export_lag_s, subject, "the oldest reading waiting for export waited",
                            *gateway.export_lag_s, 1.0, " s"));
      }
      break;
    case RuleKind::update_failed:
      if (!facts.updates) return std::nullopt;
      observe_failed_updates(rule, facts, out);
      break;
    case RuleKind::rollout_halted:
      if (!facts.updates) return std::nullopt;
      observe_rollouts(facts, out);
      break;
    case RuleKind::outbox_drops:
      observe_growth(
          rule, facts, &DeviceFacts::drops,
          {.grew_before = "its outbox dropped ", .grew_after = " readings ", .none_for = "no readings dropped for "},
          out);
      break;
    case RuleKind::device_acl_denials:
      observe_growth(rule, facts, &DeviceFacts::acl_denials,
                     {.grew_before = "the broker's ACL refused ",
                      .grew_after = " of its publishes or deliveries ",
                      .none_for = "no ACL denial for "},
                     out);
      break;
    case RuleKind::superseded_certificate:
      if (!facts.certificates) return std::nullopt;
      observe_superseded_certificates(rule, facts, out);
      break;
  }
  return out;
}

}  // namespace kelvin::alerts
