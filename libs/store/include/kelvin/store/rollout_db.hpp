#pragma once
// Firmware rollouts (docs/ota.md, "Rollouts"): each rollout of one release to a set of devices in
// waves, and every device's state in it, in their own SQLite file (rollouts.db, mode 0600, next to
// the telemetry store). Persistence only: the rules (waves, the failure threshold, which state may
// follow which) are libs/rollout's.
//
// Several processes open the file at once: kelvinctl starts, pauses, resumes and aborts rollouts,
// the gateway's HTTPS routes do the same and answer devices, and the gateway's rollout engine
// reads it every second and writes the transitions. Every operation is one statement or one short
// transaction; save() changes a rollout only if its state is still the one its caller read, so
// an engine's tick never undoes a pause kelvinctl wrote meanwhile. Expected failures return
// Result; nothing throws. One connection: use from one thread at a time.

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/core/result.hpp"

namespace kelvin::store {

enum class RolloutState { running, paused, halted, aborted, completed };
inline constexpr std::size_t kRolloutStateCount = 5;

enum class DeviceRolloutState { pending, notified, downloading, installed, confirmed, failed, rolled_back };
inline constexpr std::size_t kDeviceRolloutStateCount = 7;

// How a rollout's devices were chosen when it started: every device the gateway knew, a list, or
// the devices carrying a label then (a snapshot: labelling a device later does not add it).
// `unrecorded`: a rollout started before kelvin recorded this.
enum class RolloutTarget { unrecorded, all, devices, label };

// The names the API, kelvinctl and the database use ("rolled_back"); "" for unrecorded.
std::string_view to_string(RolloutState state) noexcept;
std::string_view to_string(RolloutTarget target) noexcept;
std::string_view to_string(DeviceRolloutState state) noexcept;
std::optional<RolloutState> parse_rollout_state(std::string_view name) noexcept;
std::optional<DeviceRolloutState> parse_device_rollout_state(std::string_view name) noexcept;

struct RolloutRecord {
  std::int64_t id = 0;  // assigned by create(), increasing
  std::string product{};
  std::string version{};  // MAJOR.MINOR.PATCH
  RolloutState state = RolloutState::running;
  std::vector<int> waves{};  // cumulative percentages of the devices, strictly increasing, ending at 100
  int max_failure_percent = 20;
  int current_wave = 0;  // the waves started so far (wave 1 is the first); 0 before the first
  // Failures (failed, rolled_back) a resume after a halt accepted: the threshold counts the others.
  std::int64_t failures_accepted = 0;
  bool notices_cleared = false;  // aborted: the devices' retained notices were cleared
  std::string created_by{};      // a user, or "kelvinctl"
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;  // the last change of the rollout's own state
  RolloutTarget target = RolloutTarget::unrecorded;
  std::string target_label{};  // target label: the label; empty otherwise
  // A device that reports nothing for this long fails (rollout_plan.hpp); 0: no limit (also the
  // rollouts started before kelvin had one).
  std::int64_t device_timeout_ms = 0;
};

struct RolloutDeviceRecord {
  std::string device{};
  int wave = 1;
  DeviceRolloutState state = DeviceRolloutState::pending;
  int percent = 0;       // downloading: how much of the image the device has, 0..100
  std::string reason{};  // failed, rolled_back: the device's short code (bad_signature, not_confirmed, ...)
  std::string detail{};  // failed, rolled_back, confirmed: free text from the device or the gateway
  std::int64_t updated_ms = 0;
};

// A rollout with how many of its devices are in each state (indexed by DeviceRolloutState).
struct RolloutSummary {
  RolloutRecord rollout{};
  std::array<std::size_t, kDeviceRolloutStateCount> counts{};
};

// A device whose part in a rollout failed or rolled back.
struct FailedUpdate {
  std::int64_t rollout = 0;
  std::string product{};
  std::string version{};
  RolloutDeviceRecord device{};
};

// A rollout that is running, paused or halted.
bool is_active(RolloutState state) noexcept;

class RolloutDb {
 public:
  // Opens or creates `db_file` (0600). Errc::corrupt for a file that is not kelvin's rollouts
  // database, Errc::conflict for a newer schema, io/permission_denied when it cannot be opened.
  static Result<RolloutDb> open(const std::filesystem::path& db_file, int busy_timeout_ms = 5000);
  RolloutDb(RolloutDb&&) noexcept;
  RolloutDb& operator=(RolloutDb&&) noexcept;
  ~RolloutDb();

  // Adds `rollout` (its id is assigned) with its devices; returns the id. Errc::conflict when the
  // product has an active rollout already (checked in the same transaction, and by a unique index);
  // Errc::invalid_argument for a target label without a label, or a label on another target.
  Result<std::int64_t> create(const RolloutRecord& rollout, const std::vector<RolloutDeviceRecord>& devices);

  // Newest first, with the counts; `unfinished_only`: the active ones and aborted ones whose
  // notices are not cleared yet (what the engine has work for).
  Result<std::vector<RolloutSummary>> rollouts(bool unfinished_only = false);
  Result<std::optional<RolloutRecord>> rollout(std::int64_t id);
  // By wave, then device id.
  Result<std::vector<RolloutDeviceRecord>> devices(std::int64_t id);

  // Writes `rollout`'s state, current wave, accepted failures, cleared notices and updated_ms, and
  // `changed` devices' rows, in one transaction, if the rollout's state is still `expected`:
  // false, with nothing written, when another process changed it meanwhile. Errc::not_found for
  // an unknown id.
  Result<bool> save(const RolloutRecord& rollout, RolloutState expected,
                    const std::vector<RolloutDeviceRecord>& changed = {});

  // Every device whose part in the newest rollout that includes it (aborted rollouts left out)
  // failed or rolled back, by device id: what the gateway's update_failed alerts watch.
  Result<std::vector<FailedUpdate>> failed_updates();

  // The newest running or paused rollout in which `device` is notified, downloading or installed
  // (what it should be fetching), if any.
  Result<std::optional<RolloutRecord>> offer_for(std::string_view device);

  class Impl;

 private:
  explicit RolloutDb(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kelvin::store
