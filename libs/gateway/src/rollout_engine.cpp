#include "kelvin/gateway/rollout_engine.hpp"

#include <map>
#include <utility>
#include <vector>

#include "kelvin/core/thread_name.hpp"
#include "kelvin/gateway/ingest.hpp"
#include "kelvin/log/log.hpp"
#include "kelvin/proto/topics.hpp"
#include "kelvin/rollout/ota_messages.hpp"

namespace kelvin::gateway {
namespace {

using store::DeviceRolloutState;
using store::RolloutDeviceRecord;
using store::RolloutRecord;

constexpr int kSaveAttempts = 3;

std::string rollout_target(std::int64_t id) {
  return "rollout " + std::to_string(id);
}

bool holds_notice(DeviceRolloutState state) {
  return state == DeviceRolloutState::notified || state == DeviceRolloutState::downloading ||
         state == DeviceRolloutState::installed;
}

}  // namespace

RolloutEngine::RolloutEngine(std::filesystem::path db_file, RetainedPublisher publish,
                             rollout::RunningVersion running_version, GatewayAudit audit, RolloutEngineOptions options,
                             std::function<std::int64_t()> clock)
    : db_file_(std::move(db_file)),
      publish_(std::move(publish)),
      running_version_(std::move(running_version)),
      audit_(std::move(audit)),
      options_(options),
      clock_(clock ? std::move(clock) : std::function<std::int64_t()>(system_now_ms)) {}

RolloutEngine::~RolloutEngine() {
  stop();
}

Result<void> RolloutEngine::start() {
  auto db = store::RolloutDb::open(db_file_);
  if (!db) return make_error(db.error().code, "rollouts: " + db.error().message);
  db_.emplace(std::move(*db));
  thread_ = core::named_thread("rollouts", [this] { run(); });
  return {};
}

void RolloutEngine::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

RolloutEngine::Submitted RolloutEngine::submit_report(std::string_view device, std::string_view payload,
                                                      std::string* refusal) {
  auto report = rollout::decode_report(payload);
  std::lock_guard lock(mutex_);
  if (!report) {
    ++counters_.reports_refused;
    if (auto suppressed = log_.admit("refused " + std::string(device), std::chrono::steady_clock::now())) {
      log::component("rollouts")
          .warn("refused an update status of {}: {} ({} similar suppressed)", device, report.error().message,
                *suppressed);
    }
    if (refusal) *refusal = report.error().message;
    return Submitted::refused;
  }
  if (waiting_.size() >= options_.max_waiting_reports || stopping_) {
    ++counters_.reports_dropped;
    return Submitted::busy;
  }
  waiting_.push_back(QueuedReport{std::string(device), std::move(*report)});
  woken_ = true;
  wake_.notify_one();
  return Submitted::queued;
}

void RolloutEngine::republish() {
  std::lock_guard lock(mutex_);
  republish_ = true;
  woken_ = true;
  wake_.notify_one();
}

void RolloutEngine::wake() {
  std::lock_guard lock(mutex_);
  woken_ = true;
  wake_.notify_one();
}

RolloutEngineCounters RolloutEngine::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

void RolloutEngine::run() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, options_.interval, [this] { return stopping_ || woken_; });
      if (stopping_) return;
      woken_ = false;
    }
    tick();
  }
}

void RolloutEngine::count_database_failure(const Error& error) {
  {
    std::lock_guard lock(mutex_);
    ++counters_.database_failures;
  }
  if (auto suppressed = log_.admit("database", std::chrono::steady_clock::now())) {
    log::component("rollouts").error("{} ({} similar suppressed)", error.message, *suppressed);
  }
}

void RolloutEngine::publish_notice(const RolloutRecord& record, const std::string& device) {
  const bool published = publish_(proto::device_topic(device, proto::DeviceTopic::ota),
                                  rollout::encode_notice(record.id, record.product, record.version));
  std::lock_guard lock(mutex_);
  if (published) {
    ++counters_.notices_published;
  } else {
    // Published again once the gateway is connected (republish() from on_connected).
    ++counters_.publish_failures;
    republish_ = true;
  }
}

void RolloutEngine::clear_notice(const std::string& device) {
  if (!publish_(proto::device_topic(device, proto::DeviceTopic::ota), "")) {
    clears_to_retry_.insert(device);
    std::lock_guard lock(mutex_);
    ++counters_.publish_failures;
    return;
  }
  clears_to_retry_.erase(device);
  std::lock_guard lock(mutex_);
  ++counters_.notices_cleared;
}

void RolloutEngine::republish_active() {
  auto active = db_->rollouts(/*unfinished_only=*/true);
  if (!active) return count_database_failure(active.error());
  for (const auto& summary : *active) {
    if (!store::is_active(summary.rollout.state)) continue;
    auto devices = db_->devices(summary.rollout.id);
    if (!devices) return count_database_failure(devices.error());
    for (const auto& device : *devices) {
      if (holds_notice(device.state)) publish_notice(summary.rollout, device.device);
    }
  }
}

void RolloutEngine::tick() {
  std::deque<QueuedReport> reports;
  bool republish = false;
  {
    std::lock_guard lock(mutex_);
    reports.swap(waiting_);
    republish = std::exchange(republish_, false);
  }
  // Before any new notice: a device whose notice could not be cleared earlier gets its clear
  // first, so it never wipes a notice published after it.
  const std::set<std::string> retry = clears_to_retry_;
  for (const auto& device : retry) clear_notice(device);
  if (republish) republish_active();

  auto unfinished = db_->rollouts(/*unfinished_only=*/true);
  if (!unfinished) return count_database_failure(unfinished.error());
  std::map<std::int64_t, std::vector<RolloutDeviceRecord>> devices;
  for (const auto& summary : *unfinished) {
    auto rows = db_->devices(summary.rollout.id);
    if (!rows) return count_database_failure(rows.error());
    devices.emplace(summary.rollout.id, std::move(*rows));
  }
  // Each report goes to the rollout whose entry for the device it matches; the others are counted.
  std::map<std::int64_t, std::vector<QueuedReport>> matched;
  for (auto& queued : reports) {
    std::optional<std::int64_t> found;
    for (const auto& summary : *unfinished) {
      for (const auto& entry : devices[summary.rollout.id]) {
        if (entry.device == queued.device && rollout::report_matches(summary.rollout, entry, queued.report)) {
          found = summary.rollout.id;
        }
      }
      if (found) break;
    }
    if (found) {
      matched[*found].push_back(std::move(queued));
      continue;
    }
    {
      std::lock_guard lock(mutex_);
      ++counters_.reports_unmatched;
    }
    if (auto suppressed = log_.admit("unmatched " + queued.device, std::chrono::steady_clock::now())) {
      log::component("rollouts")
          .warn(
              "{} reported {} of {} {} (rollout {}), which no active rollout expects from it ({} similar "
              "suppressed)",
              queued.device, store::to_string(queued.report.state), queued.report.product, queued.report.version,
              queued.report.rollout, *suppressed);
    }
  }
  for (const auto& summary : *unfinished) advance(summary.rollout.id, matched[summary.rollout.id]);
  count_active();
}

void RolloutEngine::count_active() {
  auto unfinished = db_->rollouts(/*unfinished_only=*/true);
  if (!unfinished) return count_database_failure(unfinished.error());
  std::array<std::uint64_t, store::kRolloutStateCount> rollouts{};
  std::array<std::uint64_t, store::kDeviceRolloutStateCount> devices{};
  for (const auto& summary : *unfinished) {
    if (!store::is_active(summary.rollout.state)) continue;
    ++rollouts[static_cast<std::size_t>(summary.rollout.state)];
    for (std::size_t state = 0; state < devices.size(); ++state) devices[state] += summary.counts[state];
  }
  std::lock_guard lock(mutex_);
  counters_.active_rollouts = rollouts;
  counters_.active_rollout_devices = devices;
}

void RolloutEngine::advance(std::int64_t id, const std::vector<QueuedReport>& reports) {
  for (int attempt = 0; attempt < kSaveAttempts; ++attempt) {
    auto read = db_->rollout(id);
    if (!read) return count_database_failure(read.error());
    if (!*read) return;
    const RolloutRecord record = std::move(**read);
    auto rows = db_->devices(id);
    if (!rows) return count_database_failure(rows.error());
    std::vector<RolloutDeviceRecord> devices = std::move(*rows);
    const std::int64_t now_ms = clock_();

    std::vector<RolloutDeviceRecord> changed;
    std::vector<std::string> clear;
    std::uint64_t applied = 0;
    for (const auto& queued : reports) {
      for (auto& entry : devices) {
        if (entry.device != queued.device || !rollout::report_matches(record, entry, queued.report)) continue;
        if (rollout::apply_report(entry, queued.report, now_ms)) clear.push_back(entry.device);
        ++applied;
        std::erase_if(changed, [&](const RolloutDeviceRecord& d) { return d.device == entry.device; });
        changed.push_back(entry);
      }
    }
    rollout::TickPlan plan = rollout::plan_tick(record, devices, running_version_, now_ms);
    changed.insert(changed.end(), plan.changed.begin(), plan.changed.end());
    clear.insert(clear.end(), plan.clear.begin(), plan.clear.end());
    if (changed.empty() && !plan.rollout_changed && clear.empty()) return;

    auto saved = db_->save(plan.rollout, record.state, changed);
    if (!saved) return count_database_failure(saved.error());
    if (!*saved) continue;  // paused, resumed or aborted meanwhile: read it again
    {
      std::lock_guard lock(mutex_);
      counters_.reports_applied += applied;
    }
    for (const auto& device : clear) clear_notice(device);
    for (const auto& device : plan.notify) publish_notice(plan.rollout, device);
    if (plan.audit_action) {
      log::component("rollouts")
          .info("rollout {} ({} {}): {}: {}", id, record.product, record.version, *plan.audit_action,
                plan.audit_detail);
      audit_(*plan.audit_action, rollout_target(id), plan.audit_detail);
    }
    return;
  }
  log::component("rollouts")
      .warn("rollout {} kept changing while the engine moved it on; trying again at the next tick", id);
}

}  // namespace kelvin::gateway
