#pragma once
// The one place in kelvin-gateway that moves firmware rollouts on (docs/ota.md, "Rollouts"): it
// owns the devices' retained notices on devices/{id}/ota and the start of each wave, and applies
// what devices report. Operators change rollouts.db directly (kelvinctl, the HTTPS routes); the
// engine reads it every `interval`, or at once when woken, and does the rest by the rules of
// kelvin/rollout/rollout_plan.hpp.
//
// Threads: one thread of its own owns the engine's connection to rollouts.db and does every
// transition and publication. Device reports arrive from the MQTT network thread and the HTTPS
// routes through submit_report(), which decodes, queues and returns at once (it never waits for
// the database), so a device's status never holds up the ingest. A report that does not decode is
// refused and counted; one that matches no active rollout is counted and logged (rate-limited).
//
// After a restart the engine goes on from the database; when the gateway (re)connects to the
// broker it publishes every active notice again (the broker keeps retained messages, so this is
// harmless), and a notice that could not be published or cleared is tried again at the next tick.

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "kelvin/core/result.hpp"
#include "kelvin/gateway/rate_limited_log.hpp"
#include "kelvin/gateway/retained_publisher.hpp"
#include "kelvin/rollout/rollout_plan.hpp"
#include "kelvin/store/rollout_db.hpp"

namespace kelvin::gateway {

struct RolloutEngineOptions {
  std::chrono::milliseconds interval{1000};  // how often rollouts.db is read for changes
  std::size_t max_waiting_reports = 10'000;  // beyond: submit_report() answers busy
};

struct RolloutEngineCounters {
  std::uint64_t reports_applied = 0;
  std::uint64_t reports_refused = 0;    // did not decode
  std::uint64_t reports_unmatched = 0;  // no active rollout has the device at that release
  std::uint64_t reports_dropped = 0;    // the queue was full
  std::uint64_t notices_published = 0;
  std::uint64_t notices_cleared = 0;
  std::uint64_t publish_failures = 0;
  std::uint64_t database_failures = 0;
  // Gauges, as the engine's last tick left rollouts.db (at most `interval` old): the active
  // rollouts (running, paused, halted) by state, and their devices by state. Indexed by
  // store::RolloutState and store::DeviceRolloutState.
  std::array<std::uint64_t, store::kRolloutStateCount> active_rollouts{};
  std::array<std::uint64_t, store::kDeviceRolloutStateCount> active_rollout_devices{};
};

// Writes an audit entry with the actor "gateway".
using GatewayAudit = std::function<void(std::string_view action, std::string_view target, std::string_view detail)>;

class RolloutEngine {
 public:
  // `running_version` is called on the engine's thread only.
  RolloutEngine(std::filesystem::path db_file, RetainedPublisher publish, rollout::RunningVersion running_version,
                GatewayAudit audit, RolloutEngineOptions options = {}, std::function<std::int64_t()> clock = nullptr);
  ~RolloutEngine();  // stop()s
  RolloutEngine(const RolloutEngine&) = delete;
  RolloutEngine& operator=(const RolloutEngine&) = delete;

  // Opens rollouts.db (creating it) and starts the thread.
  Result<void> start();
  void stop();  // idempotent

  enum class Submitted { queued, refused, busy };
  // Thread-safe, never blocks: a device's report as it arrived (the JSON of devices/{id}/ota/status).
  // `refusal`, when given, says why a refused one was refused.
  Submitted submit_report(std::string_view device, std::string_view payload, std::string* refusal = nullptr);

  // Thread-safe: publish every active notice again at the next tick (the gateway connected).
  void republish();
  // Thread-safe: do a tick now (an operator changed rollouts.db).
  void wake();

  RolloutEngineCounters counters() const;

 private:
  struct QueuedReport {
    std::string device{};
    rollout::DeviceReport report{};
  };
  void run();
  void tick();
  // Applies `reports` for this rollout and its tick, saving with the state it read; retried when
  // another process changed the rollout meanwhile.
  void advance(std::int64_t id, const std::vector<QueuedReport>& reports);
  void publish_notice(const store::RolloutRecord& record, const std::string& device);
  // Reads the active rollouts' counts into the counters' gauges.
  void count_active();
  void clear_notice(const std::string& device);
  void republish_active();
  void count_database_failure(const Error& error);

  const std::filesystem::path db_file_;
  const RetainedPublisher publish_;
  const rollout::RunningVersion running_version_;
  const GatewayAudit audit_;
  const RolloutEngineOptions options_;
  const std::function<std::int64_t()> clock_;

  mutable std::mutex mutex_;  // guards the members below it; a leaf
  std::condition_variable wake_;
  std::deque<QueuedReport> waiting_;
  bool republish_ = true;
  bool woken_ = false;
  bool stopping_ = false;
  RolloutEngineCounters counters_;

  // The engine's thread only.
  std::optional<store::RolloutDb> db_{};
  std::set<std::string> clears_to_retry_;
  RateLimitedLog log_;
  std::thread thread_;
};

}  // namespace kelvin::gateway
