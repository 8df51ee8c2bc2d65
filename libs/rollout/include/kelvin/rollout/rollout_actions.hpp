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

// Exactly one of all, devices and label chooses the rollout's devices.
struct StartRequest {
  std::string product{};
  std::string version{};
  bool all = false;                    // every device the gateway's store knows
  std::vector<std::string> devices{};  // or these (each must be known)
  std::string label{};                 // or the devices carrying this label when the rollout starts
  std::vector<int> waves = kDefaultWaves;
  int max_failure_percent = kDefaultMaxFailurePercent;
  std::int64_t device_timeout_ms = kDefaultDeviceTimeoutMs;  // 0: none; else kMin…kMaxDeviceTimeoutMs
  std::string created_by{};                                  // a user, or "kelvinctl"
};

// What a start chooses its devices from, read from the gateway's store just before.
struct Candidates {
  std::vector<std::string> known{};     // every device the store knows (registered, or seen), sorted
  std::vector<std::string> labelled{};  // those carrying the request's label, sorted (none asked: empty)
};

// The candidates for `request`, from one read of the store's devices. No device carries a
// malformed label, so one selects none (and start_rollout refuses it).
Result<Candidates> candidates_for(store::Store& store, const StartRequest& request);

// Why start_rollout refused, for answers with a stable code.
enum class StartRefusal {
  invalid_request,
  invalid_label,
  release_key_missing,
  release_not_found,
  device_not_found,
  label_not_found,
  rollout_active,
  failed
};

// Checks `request` and creates the rollout, running, with its devices in waves (in the order
// given; all and label: by id) and its target recorded. The devices of a label are those carrying
// it now (`candidates.labelled`): a snapshot, which labelling a device later does not change.
// Refusals: Errc::invalid_argument (waves, threshold 0..100, device time limit, no devices, not exactly one of all,
// devices and label, a device twice, a malformed label), Errc::not_found (no release key trusted,
// the release is not published, a device is unknown, no device carries the label: the message
// names it), Errc::conflict (the product has an active rollout); `refusal`, when given, is set to
// the kind of any refusal (`failed`: the database or the catalog failed).
Result<store::RolloutRecord> start_rollout(store::RolloutDb& db, const std::optional<release::ReleaseCatalog>& catalog,
                                           const Candidates& candidates, const StartRequest& request,
                                           std::int64_t now_ms, StartRefusal* refusal = nullptr);

// How the rollout's devices were chosen, for people: "all devices", "listed devices",
// "label greenhouse", or "not recorded" (a rollout started before kelvin recorded it).
std::string describe_target(const store::RolloutRecord& rollout);

// Pauses, resumes or aborts rollout `id` (apply_command); Errc::not_found for an unknown id,
// Errc::conflict when the command is not allowed in its state (also when another process changed
// it at the same moment).
Result<store::RolloutRecord> command_rollout(store::RolloutDb& db, std::int64_t id, RolloutCommand command,
                                             std::int64_t now_ms);

// "thermo-linux 1.1.0 to 3 devices in waves 5,25,100, halting above 20 % failures, a device silent
// for 1d fails" (with
// "labelled greenhouse" after the devices of a rollout to a label): what the audit log says about
// a start.
std::string describe_start(const store::RolloutRecord& rollout, std::size_t devices);

// ", a device silent for 1d fails", or ", devices may stay silent" without a limit.
std::string device_timeout_text(const store::RolloutRecord& rollout);

}  // namespace kelvin::rollout
