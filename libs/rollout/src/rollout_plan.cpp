#include "kelvin/rollout/rollout_plan.hpp"

#include <algorithm>

#include "kelvin/core/time_arguments.hpp"

namespace kelvin::rollout {
namespace {

std::size_t started_devices(const RolloutRecord& rollout, const std::vector<RolloutDeviceRecord>& devices) {
  return static_cast<std::size_t>(std::count_if(
      devices.begin(), devices.end(), [&](const RolloutDeviceRecord& d) { return d.wave <= rollout.current_wave; }));
}

std::int64_t failures(const std::vector<RolloutDeviceRecord>& devices) {
  return std::count_if(devices.begin(), devices.end(), [](const RolloutDeviceRecord& d) {
    return d.state == DeviceRolloutState::failed || d.state == DeviceRolloutState::rolled_back;
  });
}

bool started_waves_over(const RolloutRecord& rollout, const std::vector<RolloutDeviceRecord>& devices) {
  return std::all_of(devices.begin(), devices.end(), [&](const RolloutDeviceRecord& d) {
    return d.wave > rollout.current_wave || is_terminal(d.state);
  });
}

// Devices of the started waves whose part is under way and that reported nothing for
// device_timeout_ms fail as timed_out; the clock starts at the device's last change, or at the
// rollout's last change of state when that is later (a resume gives every device its full time).
void time_out_silent_devices(const RolloutRecord& rollout, std::vector<RolloutDeviceRecord>& devices,
                             std::int64_t now_ms, TickPlan& plan) {
  if (rollout.device_timeout_ms <= 0) return;
  for (auto& d : devices) {
    if (d.wave > rollout.current_wave || d.state == DeviceRolloutState::pending || is_terminal(d.state)) continue;
    if (now_ms - std::max(d.updated_ms, rollout.updated_ms) < rollout.device_timeout_ms) continue;
    d.detail = "no report from the device for " + format_step(rollout.device_timeout_ms) + " (it was " +
               std::string(store::to_string(d.state)) + ")";
    d.state = DeviceRolloutState::failed;
    d.reason = "timed_out";
    d.updated_ms = now_ms;
    plan.changed.push_back(d);
    plan.clear.push_back(d.device);
  }
}

}  // namespace

Result<void> check_waves(const std::vector<int>& waves) {
  if (waves.empty() || waves.size() > kMaxWaves) {
    return make_error(Errc::invalid_argument, "give 1 to " + std::to_string(kMaxWaves) + " waves");
  }
  int previous = 0;
  for (int wave : waves) {
    if (wave <= previous || wave > 100) {
      return make_error(Errc::invalid_argument,
                        "waves are cumulative percentages of the devices, each 1 to 100 and larger than the one "
                        "before (e.g. 5,25,100)");
    }
    previous = wave;
  }
  if (previous != 100) return make_error(Errc::invalid_argument, "the last wave must be 100 (every device)");
  return {};
}

std::vector<int> assign_waves(std::size_t count, const std::vector<int>& waves) {
  std::vector<int> out;
  out.reserve(count);
  std::size_t reached = 0;
  for (std::size_t i = 0; i < waves.size(); ++i) {
    const std::size_t share = (count * static_cast<std::size_t>(waves[i]) + 99) / 100;
    const std::size_t until = std::min(count, std::max(share, reached + 1));
    for (; reached < until; ++reached) out.push_back(static_cast<int>(i + 1));
  }
  return out;
}

bool is_terminal(DeviceRolloutState state) noexcept {
  return state == DeviceRolloutState::confirmed || state == DeviceRolloutState::failed ||
         state == DeviceRolloutState::rolled_back;
}

bool over_threshold(const RolloutRecord& rollout, const std::vector<RolloutDeviceRecord>& devices) {
  const std::int64_t counted = failures(devices) - rollout.failures_accepted;
  const auto started = static_cast<std::int64_t>(started_devices(rollout, devices));
  return counted > 0 && counted * 100 > static_cast<std::int64_t>(rollout.max_failure_percent) * started;
}

TickPlan plan_tick(const RolloutRecord& rollout, const std::vector<RolloutDeviceRecord>& devices,
                   const RunningVersion& running_version, std::int64_t now_ms) {
  TickPlan plan{.rollout = rollout};
  RolloutRecord& next = plan.rollout;
  if (rollout.state == RolloutState::aborted && !rollout.notices_cleared) {
    for (const auto& d : devices) {
      if (d.state != DeviceRolloutState::pending && !is_terminal(d.state)) plan.clear.push_back(d.device);
    }
    next.notices_cleared = true;
    plan.rollout_changed = true;
    return plan;
  }
  if (rollout.state != RolloutState::running) return plan;
  std::vector<RolloutDeviceRecord> current = devices;
  time_out_silent_devices(rollout, current, now_ms, plan);
  if (over_threshold(rollout, current)) {
    next.state = RolloutState::halted;
    next.updated_ms = now_ms;
    plan.rollout_changed = true;
    plan.audit_action = "rollout_halted";
    plan.audit_detail = std::to_string(failures(current)) + " of " + std::to_string(started_devices(rollout, current)) +
                        " devices in the started waves failed or rolled back (threshold " +
                        std::to_string(rollout.max_failure_percent) + " %)";
    return plan;
  }
  const int wave_count = static_cast<int>(rollout.waves.size());
  while (started_waves_over(next, current)) {
    if (next.current_wave >= wave_count) {
      next.state = RolloutState::completed;
      next.updated_ms = now_ms;
      plan.rollout_changed = true;
      const auto confirmed = std::count_if(current.begin(), current.end(), [](const RolloutDeviceRecord& d) {
        return d.state == DeviceRolloutState::confirmed;
      });
      plan.audit_action = "rollout_completed";
      plan.audit_detail = std::to_string(confirmed) + " of " + std::to_string(current.size()) + " devices confirmed " +
                          rollout.product + " " + rollout.version;
      break;
    }
    ++next.current_wave;
    next.updated_ms = now_ms;
    plan.rollout_changed = true;
    for (auto& d : current) {
      if (d.wave != next.current_wave || d.state != DeviceRolloutState::pending) continue;
      d.updated_ms = now_ms;
      if (running_version && running_version(d.device) == rollout.version) {
        d.state = DeviceRolloutState::confirmed;
        d.percent = 100;
        d.detail = "already running " + rollout.version;
      } else {
        d.state = DeviceRolloutState::notified;
        plan.notify.push_back(d.device);
      }
      plan.changed.push_back(d);
    }
  }
  return plan;
}

std::string_view to_string(RolloutCommand command) noexcept {
  switch (command) {
    case RolloutCommand::pause:
      return "pause";
    case RolloutCommand::resume:
      return "resume";
    case RolloutCommand::abort:
      return "abort";
  }
  return "?";
}

Result<RolloutRecord> apply_command(const RolloutRecord& rollout, const std::vector<RolloutDeviceRecord>& devices,
                                    RolloutCommand command, std::int64_t now_ms) {
  RolloutRecord next = rollout;
  next.updated_ms = now_ms;
  const RolloutState state = rollout.state;
  switch (command) {
    case RolloutCommand::pause:
      if (state != RolloutState::running) break;
      next.state = RolloutState::paused;
      return next;
    case RolloutCommand::resume:
      if (state != RolloutState::paused && state != RolloutState::halted) break;
      if (state == RolloutState::halted) next.failures_accepted = failures(devices);
      next.state = RolloutState::running;
      return next;
    case RolloutCommand::abort:
      if (!store::is_active(state)) break;
      next.state = RolloutState::aborted;
      next.notices_cleared = false;
      return next;
  }
  return make_error(Errc::conflict, "rollout " + std::to_string(rollout.id) + " is " +
                                        std::string(store::to_string(state)) + ": it cannot " +
                                        std::string(to_string(command)));
}

bool report_matches(const RolloutRecord& rollout, const RolloutDeviceRecord& entry, const DeviceReport& report) {
  if (!store::is_active(rollout.state)) return false;
  if (report.rollout != 0 && report.rollout != rollout.id) return false;
  if (report.product != rollout.product || report.version != rollout.version) return false;
  return entry.state == DeviceRolloutState::notified || entry.state == DeviceRolloutState::downloading ||
         entry.state == DeviceRolloutState::installed;
}

bool apply_report(RolloutDeviceRecord& entry, const DeviceReport& report, std::int64_t now_ms) {
  entry.state = report.state;
  entry.updated_ms = now_ms;
  switch (report.state) {
    case DeviceRolloutState::downloading:
      entry.percent = std::clamp(report.percent, 0, 100);
      break;
    case DeviceRolloutState::installed:
    case DeviceRolloutState::confirmed:
      entry.percent = 100;
      break;
    default:
      break;
  }
  // A failed device says why (bad_signature, ...); so does a rolled-back one (not_confirmed).
  const bool says_why = report.state == DeviceRolloutState::failed || report.state == DeviceRolloutState::rolled_back;
  entry.reason = says_why ? report.reason : std::string();
  entry.detail = report.detail;
  return is_terminal(entry.state);
}

}  // namespace kelvin::rollout
