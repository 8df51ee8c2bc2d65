// What the gateway's alerts cost as the fleet grows (docs/benchmarks.md, "Alerts"), for 1,000 and
// 10,000 devices with one stored reading each:
//   evaluation  one evaluation of the default rules plus a threshold rule, as the alert engine does
//               it every interval: Store::list_devices on a connection of its own, then
//               AlertTracker::evaluate; nothing fires. Median and worst of 10, wall time.
//   most rules  the same with the most rules an installation can have beyond the defaults: 100 rules
//               operators added (the limit), each a threshold on its own list of 1,000 devices (the
//               most a rule may list): the cost of the scope lookups. Median and worst of 5.
//   storm       every device gone silent at once (a gateway back after an outage): the offline
//               rule fires for all of them, each firing written to alerts.db (synchronous=FULL) with
//               one webhook delivery queued, then all resolve. Wall time per transition.
// A plain program, not a test: nothing is asserted. Run: alerts_bench [directory]
// (default $TMPDIR or /tmp; the databases are created there and removed afterwards).

#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "kelvin/alerts/alert_tracker.hpp"
#include "kelvin/store/alert_db.hpp"
#include "kelvin/store/store.hpp"

namespace {

using Clock = std::chrono::steady_clock;
namespace alerts = kelvin::alerts;
namespace store = kelvin::store;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string device_name(int i) {
  char name[32];
  std::snprintf(name, sizeof name, "sensor-%05d", i);
  return name;
}

// A store with `devices` devices, one reading each, committed 1000 at a time.
void fill(const std::filesystem::path& file, int devices, std::int64_t now_ms) {
  auto opened = store::Store::open(file);
  if (!opened) {
    std::fprintf(stderr, "alerts_bench: %s\n", opened.error().message.c_str());
    std::exit(1);
  }
  for (int first = 0; first < devices; first += 1000) {
    store::IngestBatch batch;
    for (int i = first; i < std::min(devices, first + 1000); ++i) {
      kelvin::proto::Reading reading{.seq = 1, .ts_ms = now_ms - 1000};
      reading.set(kelvin::proto::Quantity::temperature, 20.0 + i % 10);
      batch.readings.push_back({.device_id = device_name(i), .reading = reading});
    }
    if (auto committed = opened->commit(batch, now_ms); !committed) {
      std::fprintf(stderr, "alerts_bench: %s\n", committed.error().message.c_str());
      std::exit(1);
    }
  }
}

alerts::Facts facts_of(store::Store& store, std::int64_t now_ms) {
  auto devices = store.list_devices();
  if (!devices) {
    std::fprintf(stderr, "alerts_bench: %s\n", devices.error().message.c_str());
    std::exit(1);
  }
  alerts::Facts facts{.now_ms = now_ms};
  for (auto& device : *devices) {
    facts.devices.push_back({.id = device.device_id,
                             .labels = std::move(device.labels),
                             .last_seen_ms = device.last_seen_ms,
                             .known_since_ms = device.registered_ms});
  }
  facts.certificates = std::vector<alerts::CertificateFacts>{};
  return facts;
}

// `count` evaluations of `rules` as the engine makes them (the devices read, then judged), each
// timed; sorted, fastest first. Nothing is expected to fire.
std::vector<double> timed_evaluations(alerts::AlertTracker& tracker, const std::vector<alerts::AlertRule>& rules,
                                      store::Store& store, std::int64_t now_ms, int count) {
  std::vector<double> times;
  for (int i = 0; i < count; ++i) {
    const auto start = Clock::now();
    const auto transitions = tracker.evaluate(rules, facts_of(store, now_ms));
    times.push_back(ms_since(start));
    if (!transitions.empty()) std::fprintf(stderr, "alerts_bench: unexpected transitions\n");
  }
  std::sort(times.begin(), times.end());
  return times;
}

void run(const std::filesystem::path& dir, int devices) {
  const std::filesystem::path file = dir / ("alerts-bench-" + std::to_string(devices) + ".db");
  const std::filesystem::path alerts_file = dir / ("alerts-bench-" + std::to_string(devices) + "-alerts.db");
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  fill(file, devices, now_ms);
  auto opened = store::Store::open(file);
  if (!opened) std::exit(1);
  std::vector<alerts::AlertRule> rules = alerts::default_rules();
  rules.push_back(
      {.name = "warm", .kind = alerts::RuleKind::threshold, .level = {.above = true, .fire_at = 50, .clear_at = 45}});

  alerts::AlertTracker tracker;
  const std::vector<double> evaluations = timed_evaluations(tracker, rules, *opened, now_ms, 10);

  std::vector<alerts::AlertRule> most = rules;
  for (int r = 0; r < 100; ++r) {
    alerts::AlertRule listed{.name = "listed-" + std::to_string(r),
                             .kind = alerts::RuleKind::threshold,
                             .level = {.above = true, .fire_at = 50, .clear_at = 45}};
    for (int d = 0; d < 1000; ++d) listed.scope.devices.push_back(device_name((r * 1000 + d * 7) % (devices * 2)));
    std::sort(listed.scope.devices.begin(), listed.scope.devices.end());  // as the config reader keeps them
    listed.scope.devices.erase(std::unique(listed.scope.devices.begin(), listed.scope.devices.end()),
                               listed.scope.devices.end());
    most.push_back(std::move(listed));
  }
  alerts::AlertTracker most_tracker;
  const std::vector<double> most_evaluations = timed_evaluations(most_tracker, most, *opened, now_ms, 5);

  // The storm: everyone silent for 11 minutes (the default offline rule: 10).
  auto db = store::AlertDb::open(alerts_file);
  if (!db) std::exit(1);
  const std::vector<std::string> webhooks{"ops"};
  auto start = Clock::now();
  const auto fired = tracker.evaluate(rules, facts_of(*opened, now_ms + 11 * 60'000));
  std::vector<std::int64_t> ids;
  for (const auto& transition : fired) {
    auto recorded = db->fire({.rule = transition.rule,
                              .kind = std::string(alerts::to_string(transition.kind)),
                              .subject = transition.subject,
                              .started_ms = transition.at_ms,
                              .value = transition.value,
                              .summary = transition.summary},
                             webhooks);
    if (recorded) ids.push_back(recorded->id);
  }
  const double fire_ms = ms_since(start);
  start = Clock::now();
  for (const auto id : ids) (void)db->resolve(id, now_ms + 12 * 60'000, "condition cleared", webhooks);
  const double resolve_ms = ms_since(start);

  std::printf(
      "%6d devices  evaluation median %7.1f ms  worst %7.1f ms  |  most rules: median %7.1f ms  worst %7.1f ms"
      "  |  storm: %zu fired in %7.0f ms (%.2f ms each), resolved in %7.0f ms (%.2f ms each)\n",
      devices, evaluations[evaluations.size() / 2], evaluations.back(), most_evaluations[most_evaluations.size() / 2],
      most_evaluations.back(), ids.size(), fire_ms, ids.empty() ? 0.0 : fire_ms / static_cast<double>(ids.size()),
      resolve_ms, ids.empty() ? 0.0 : resolve_ms / static_cast<double>(ids.size()));
  for (const auto& path : {file, alerts_file}) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const char* tmp = getenv("TMPDIR");
  const std::filesystem::path dir = argc > 1 ? argv[1] : (tmp ? tmp : "/tmp");
  for (int devices : {1000, 10'000}) run(dir, devices);
  return 0;
}
