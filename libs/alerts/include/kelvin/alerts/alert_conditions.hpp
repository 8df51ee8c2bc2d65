#pragma once
// Evaluating one alert rule against what the gateway knows at one moment (docs/alerts.md): the
// facts are gathered by the gateway's alert engine; this turns them into one observation per
// subject the rule watches. No I/O and no clock of its own, so every condition is tested with
// made-up facts.

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kelvin/alerts/alert_rule.hpp"
#include "kelvin/proto/telemetry.hpp"

namespace kelvin::alerts {

// The lowest and highest values of one quantity among the readings stored in a window.
struct Extremes {
  double min = 0;
  double max = 0;
};

// A count that only grows (a device's dropped readings, its ACL denials) as the engine follows it
// from one evaluation to the next.
struct CountGrowth {
  std::uint64_t total = 0;
  // When the engine last saw it grow, and by how much; nullopt: not since it started watching.
  std::optional<std::int64_t> grew_ms{};
  std::uint64_t grew_by = 0;
};

struct DeviceFacts {
  std::string id{};
  std::vector<std::string> labels{};
  // Silence is counted from the latest arrival of anything from the device (reading, rejection or
  // status), or, for a device that never sent anything, from when the gateway first knew it.
  std::optional<std::int64_t> last_seen_ms{};
  std::int64_t known_since_ms = 0;
  bool last_will = false;  // its latest status is "offline" (its last will, or it said so)
  // The readings stored since the previous evaluation, by quantity; nullopt: none.
  std::array<std::optional<Extremes>, proto::kQuantityCount> window{};
  // The readings its outbox dropped when full, as its latest status counts them.
  CountGrowth drops{};
  // The publishes and deliveries the managed broker's ACL refused it, since the gateway started.
  CountGrowth acl_denials{};
  // The certificates of its connections (MQTT or HTTPS) the gateway saw since it started: the serial
  // of the latest (nullopt: none), and each one's latest connection time.
  std::optional<std::string> connection_serial{};
  std::map<std::string, std::int64_t, std::less<>> connection_serials_seen_ms{};
};

// A certificate issued to a name before its newest one, neither revoked nor expired: the broker
// still accepts it.
struct SupersededCertificate {
  std::string serial{};
  std::int64_t not_after_ms = 0;
};

struct CertificateFacts {
  std::string name{};  // the common name: a device id, a service name, the server's or the CA's
  std::string kind{};  // "ca", "server", "service", "device"
  std::int64_t not_after_ms = 0;
  std::string serial{};                             // uppercase hex, as the PKI index writes it
  std::vector<SupersededCertificate> superseded{};  // issued to the same name before it
};

struct GatewayFacts {
  std::optional<std::uint64_t> free_bytes{};         // of the state directory's file system
  std::optional<std::uint64_t> export_backlog{};     // nullopt: no exporter configured
  std::optional<double> export_lag_s{};              // the oldest waiting reading's wait; likewise
  std::optional<std::int64_t> crl_next_update_ms{};  // nullopt: the CRL cannot be read
  // Per minute over the last minute, by GatewayEvent (event_rates.hpp); nullopt: not known yet
  // (the first evaluation), or not counted (no HTTPS server).
  std::array<std::optional<double>, kGatewayEventCount> events_per_minute{};
};

// A device whose part in the newest rollout that includes it (aborted rollouts left out) failed or
// rolled back.
struct FailedUpdateFacts {
  std::string device{};
  std::int64_t rollout = 0;
  std::string release{};  // "sensor-fw 1.3.0"
  std::string outcome{};  // "failed", "rolled_back"
  std::string reason{};   // the device's short code ("bad_signature", "not_confirmed"), may be empty
};

// A rollout that is running, paused or halted.
struct RolloutFacts {
  std::int64_t id = 0;
  std::string release{};  // "sensor-fw 1.3.0"
  bool halted = false;
  std::size_t devices = 0;
  std::size_t failures = 0;  // its devices that failed or rolled back
};

struct UpdateFacts {
  std::vector<FailedUpdateFacts> failed{};
  std::vector<RolloutFacts> rollouts{};
};

struct Facts {
  std::int64_t now_ms = 0;
  std::vector<DeviceFacts> devices{};
  // The ones in use: the newest per name, unrevoked; nullopt when they could not be read.
  std::optional<std::vector<CertificateFacts>> certificates{};
  GatewayFacts gateway{};
  std::optional<UpdateFacts> updates{};  // nullopt when the rollouts could not be read
};

// What one evaluation says about one subject.
enum class Verdict {
  breach,   // the condition holds: a pending alert goes on waiting out for_ms, then fires
  hold,     // between the levels (hysteresis): a firing alert stays, a pending one starts over
  clear,    // the condition is over: a firing alert resolves
  unknown,  // nothing to judge by (no reading in the window): everything stays as it is
};

struct Observation {
  std::string subject{};  // a device id, a certificate's name, or "gateway"
  Verdict verdict = Verdict::unknown;
  std::optional<double> value{};  // what was compared (a temperature, seconds, days, bytes)
  std::string summary{};          // for people: "temperature 31.2 °C above 30 °C"
};

// One observation per subject `rule` watches (every device in its scope, every certificate in use
// (the newest per name, unrevoked), every active rollout, or the gateway), in the order of `facts`.
// A level rule says breach beyond its fire level, clear within its clear level, and hold between
// the two. nullopt when the facts the rule needs are unknown (the certificates or the rollouts
// could not be read): nothing changes.
std::optional<std::vector<Observation>> observe(const AlertRule& rule, const Facts& facts);

// The subject of the gateway's own conditions (disk space, export backlog and lag, the CRL, events).
inline constexpr std::string_view kGatewaySubject = "gateway";

// The subject of a rollout's alerts: "rollout-7".
std::string rollout_subject(std::int64_t rollout);

}  // namespace kelvin::alerts
