#pragma once
// The boot step of a Linux device with firmware updates (docs/ota.md, "The boot step"):
// `kelvin-agent boot --config agent.toml`, run by systemd with Restart=always. It decides which
// slot's program runs (device::choose_boot_slot), persists that decision BEFORE starting it (a
// trial start uses up an attempt first), and supervises the program:
//   - slot a before any update is the installed agent itself (the "factory" program);
//     slots/<a|b>/image is a downloaded release;
//   - the program runs as `<image> run --config <file>` with KELVIN_BOOT_SLOT=a|b and
//     KELVIN_BOOT_TRIAL=1|0 in its environment; a trial image confirms itself in the boot record
//     (update_agent.hpp) once connected with a reading acknowledged;
//   - a trial that has not confirmed itself within the trial time limit is stopped, and so is
//     one that exits: each start is an attempt, and the start after the last attempt rolls back;
//   - an exit with kRestartIntoStagedImage (an update was staged) starts the next choice at once;
//     any other exit restarts after a delay that grows while the program keeps failing.
// The program dies with the boot step (SIGKILL), so a restarted boot step never finds an old
// program still holding the device's outbox.

#include <atomic>
#include <chrono>
#include <filesystem>

#include "kelvin/core/result.hpp"
#include "kelvin/proto/release_manifest.hpp"

namespace kelvin::agent {

// The agent's exit status when it staged an update and wants the boot step to start it.
inline constexpr int kRestartIntoStagedImage = 75;

// The environment the boot step gives a slot's program.
inline constexpr const char* kBootSlotVariable = "KELVIN_BOOT_SLOT";
inline constexpr const char* kBootTrialVariable = "KELVIN_BOOT_TRIAL";

struct BootStepOptions {
  std::filesystem::path config_file;       // given to the program: `run --config <file>`
  std::filesystem::path update_dir;        // boot.json and slots/ (agent.toml [update] dir)
  std::filesystem::path factory_program;   // slot a's program until an update replaces it
  proto::FirmwareVersion factory_version;  // its version (a fresh boot record's)
  std::chrono::milliseconds trial_timeout{300'000};
  std::chrono::milliseconds restart_delay{1'000};       // the first delay after a failing program
  std::chrono::milliseconds max_restart_delay{30'000};  // the delay stops growing here
  std::chrono::milliseconds stop_grace{10'000};         // SIGTERM to SIGKILL at stop or trial timeout
};

// Runs programs until `stop` becomes true (then stops the running one); returns the exit status
// for the boot step. Precondition: the update dir exists or can be created.
int run_boot_step(const BootStepOptions& options, const std::atomic<bool>& stop);

}  // namespace kelvin::agent
