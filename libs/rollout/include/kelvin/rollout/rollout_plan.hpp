#pragma once
// The rules of a firmware rollout (docs/ota.md, "Rollouts"), apart from any I/O so they can be
// tested with a fake clock: how the devices fall into waves, when the next wave starts, when the
// failure threshold halts a rollout, which operator command is allowed in which state, and what a
// device's status report changes. The engine in kelvin-gateway (rollout_engine.hpp) applies them
// to rollouts.db every second; kelvinctl and the HTTPS routes use them to start and command
// rollouts (rollout_actions.hpp).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/core/result.hpp"
#include "kelvin/store/rollout_db.hpp"

namespace kelvin::rollout {

using store::DeviceRolloutState;
using store::RolloutDeviceRecord;
using store::RolloutRecord;
using store::RolloutState;

inline const std::vector<int> kDefaultWaves{5, 25, 100};
inline constexpr int kDefaultMaxFailurePercent = 20;
inline constexpr std::size_t kMaxWaves = 10;
// A device of a started wave that reports nothing for this long fails as timed_out, so a device
// that is off or gone cannot hold its wave for ever: a day, time for one that is off overnight.
inline constexpr std::int64_t kDefaultDeviceTimeoutMs = 24 * 3600 * 1000;
inline constexpr std::int64_t kMinDeviceTimeoutMs = 60 * 1000;
inline constexpr std::int64_t kMaxDeviceTimeoutMs = 30 * kDefaultDeviceTimeoutMs;

// Errc::invalid_argument unless `waves` are 1..10 cumulative percentages, each 1..100, strictly
// increasing and ending at 100.
Result<void> check_waves(const std::vector<int>& waves);

// The wave (1-based) of each of `count` devices, in their order. Wave i holds the devices up to
// ceil(count * waves[i] / 100), and at least one device more than the waves before it while
// devices remain; a wave can therefore be empty only when there are fewer devices than waves.
// Precondition: check_waves(waves).
std::vector<int> assign_waves(std::size_t count, const std::vector<int>& waves);

// confirmed, failed, rolled_back: the device's part of the rollout is over.
bool is_terminal(DeviceRolloutState state) noexcept;

// Whether the failed and rolled-back devices, beyond the ones a resume accepted, exceed
// max_failure_percent of the devices in the waves started so far.
bool over_threshold(const RolloutRecord& rollout, const std::vector<RolloutDeviceRecord>& devices);

// What the engine's tick does to one rollout.
struct TickPlan {
  RolloutRecord rollout{};                     // the rollout as it is to be saved
  std::vector<RolloutDeviceRecord> changed{};  // the devices whose rows change
  std::vector<std::string> notify{};           // devices that get the retained notice now
  std::vector<std::string> clear{};            // devices whose retained notice is to be cleared
  std::optional<std::string> audit_action{};   // "rollout_halted" or "rollout_completed"
  std::string audit_detail{};                  // why, for the audit log
  bool rollout_changed = false;                // the rollout's own row changes
};

// The firmware a device last reported running (its status's fw), or nullopt when unknown.
using RunningVersion = std::function<std::optional<std::string>(std::string_view device)>;

// One tick of `rollout` at `now_ms`:
// - an aborted rollout whose notices are not cleared yet: clear the notices of its devices that
//   are not terminal (and say so once);
// - in a running rollout, a device of a started wave that is notified, downloading or installed
//   and reported nothing for device_timeout_ms (when set) since its last change, or since the
//   rollout's last change of state if later, fails as "timed_out" and its notice is cleared;
// - a running rollout over the threshold halts (no new notices);
// - a running rollout starts wave 1 at once, and the next wave once every device of the started
//   waves is terminal; a device due to be notified that already runs the version is confirmed at
//   once instead; when the last wave is over it completes.
// Paused, halted, completed and cleared aborted rollouts are left as they are.
TickPlan plan_tick(const RolloutRecord& rollout, const std::vector<RolloutDeviceRecord>& devices,
                   const RunningVersion& running_version, std::int64_t now_ms);

enum class RolloutCommand { pause, resume, abort };
std::string_view to_string(RolloutCommand command) noexcept;

// The rollout after `command`: pause from running; resume from paused or halted (resuming a halted
// rollout accepts the failures so far, so the threshold counts only new ones); abort from running,
// paused or halted. Errc::conflict in any other state.
Result<RolloutRecord> apply_command(const RolloutRecord& rollout, const std::vector<RolloutDeviceRecord>& devices,
                                    RolloutCommand command, std::int64_t now_ms);

// A device's report on devices/{id}/ota/status or POST /api/v1/devices/{id}/ota/status, decoded
// (ota_messages.hpp).
struct DeviceReport {
  std::int64_t rollout = 0;  // 0: the device does not know (match by product and version)
  std::string product{};
  std::string version{};
  DeviceRolloutState state = DeviceRolloutState::downloading;  // never pending or notified
  int percent = 0;
  std::string reason{};
  std::string detail{};
  std::string running_version{};
};

// Whether `report` from `device` is about `rollout`: active, naming its product and version (and
// its id, when the report gives one), with `entry` the device's row in it, notified, downloading
// or installed. A report about a device whose part is over, or one never notified, is not.
bool report_matches(const RolloutRecord& rollout, const RolloutDeviceRecord& entry, const DeviceReport& report);

// Applies a matching report to the device's row. Returns whether the device's part is now over
// (its notice is then cleared).
bool apply_report(RolloutDeviceRecord& entry, const DeviceReport& report, std::int64_t now_ms);

}  // namespace kelvin::rollout
