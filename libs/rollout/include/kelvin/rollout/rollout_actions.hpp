#pragma once
// Starting and commanding rollouts in rollouts.db, the one way kelvinctl (on the gateway's host)
// and the gateway's HTTPS routes both do it, so the checks are the same wherever an operator
// acts. The rules are rollout_plan.hpp's; the gateway's engine picks the change up within a second.
// Auditing is the caller's: who acted differs.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kelvin/core/result.hpp"
#include "kelvin/release/release_catalog.hpp"
#include "kelvin/rollout/rollout_plan.hpp"
#include "kelvin/store/rollout_db.hpp"
#include "kelvin/store/store.hpp"

namespace kelvin::rollout {

struct StartRequest {
  std::string product{};
  std::string version{};
  bool all = false;                    // every device the gateway's store knows
  std::vector<std::string> devices{};  // or these (each must be known); exactly one of the two
  std::vector<int> waves = kDefaultWaves;
  int max_failure_percent = kDefaultMaxFailurePercent;
  std::string created_by{};  // a user, or "kelvinctl"
};

// The ids of every device the store knows (registered, or seen), sorted.
Result<std::vector<std::string>> known_devices(store::Store& store);

// Why start_rollout refused, for answers with a stable code.
enum class StartRefusal {
  invalid_request,
  release_key_missing,
  release_not_found,
  device_not_found,
  rollout_active,
  failed
};

// Checks `request` and creates the rollout, running, with its devices in waves (in the order
// given; "all": by id). Refusals: Errc::invalid_argument (waves, threshold 0..100, no devices,
// both or neither of all and devices, a device twice), Errc::not_found (no release key trusted,
// the release is not published, a device is unknown: the message names it), Errc::conflict (the
// product has an active rollout); `refusal`, when given, is set to the kind of any refusal
// (`failed`: the database or the catalog failed).
Result<store::RolloutRecord> start_rollout(store::RolloutDb& db, const std::optional<release::ReleaseCatalog>& catalog,
                                           const std::vector<std::string>& known, const StartRequest& request,
                                           std::int64_t now_ms, StartRefusal* refusal = nullptr);

// Pauses, resumes or aborts rollout `id` (apply_command); Errc::not_found for an unknown id,
// Errc::conflict when the command is not allowed in its state (also when another process changed
// it at the same moment).
Result<store::RolloutRecord> command_rollout(store::RolloutDb& db, std::int64_t id, RolloutCommand command,
                                             std::int64_t now_ms);

// "thermo-linux 1.1.0 to 3 devices in waves 5,25,100, halting above 20 % failures": what the
// audit log says about a start.
std::string describe_start(const store::RolloutRecord& rollout, std::size_t devices);

}  // namespace kelvin::rollout
