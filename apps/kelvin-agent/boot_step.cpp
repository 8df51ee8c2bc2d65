#include "boot_step.hpp"

#include <algorithm>
#include <optional>
#include <thread>

#include "kelvin/core/child_process.hpp"
#include "kelvin/core/files.hpp"
#include "kelvin/linux_port/boot_record_file.hpp"
#include "kelvin/log/log.hpp"

namespace kelvin::agent {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Sleeps up to `duration`, waking early when `stop` is set.
void sleep_unless_stopped(std::chrono::milliseconds duration, const std::atomic<bool>& stop) {
  const auto until = Clock::now() + duration;
  while (!stop.load() && Clock::now() < until)
    std::this_thread::sleep_for(std::min<Clock::duration>(50ms, until - Clock::now()));
}

// The program of `slot`: its downloaded image, or the installed agent for slot a before any update
// wrote one there. nullopt for slot b without an image (a boot record naming a slot that has no
// program: never written by kelvin, so something else removed it).
std::optional<fs::path> program_of(const BootStepOptions& options, device::Slot slot) {
  const fs::path image = linux_port::slot_image_path(options.update_dir, slot);
  std::error_code error;
  if (fs::is_regular_file(image, error)) return image;
  if (slot == device::Slot::a) return options.factory_program;
  return std::nullopt;
}

struct Start {
  device::Slot slot = device::Slot::a;
  bool trial = false;
  fs::path program;
};

// Decides what to start and persists the decision first. A record that cannot be read or written
// never leaves the device without a program: it then runs the confirmed slot (or the installed
// agent), without a trial.
Start next_start(const BootStepOptions& options) {
  device::BootRecord fresh;
  fresh.confirmed_version = options.factory_version;
  const fs::path record_file = linux_port::boot_record_path(options.update_dir);
  auto record = linux_port::load_boot_record(record_file, fresh);
  if (!record) {
    log::component("boot").error("{}; starting the installed agent", record.error().message);
    return {device::Slot::a, false, options.factory_program};
  }
  device::BootChoice choice = device::choose_boot_slot(*record);
  if (choice.record != *record) {
    if (auto saved = linux_port::save_boot_record(record_file, choice.record); !saved) {
      // A trial must not start without its attempt recorded: it could then start forever.
      log::component("boot").error("{}; starting the confirmed slot instead", saved.error().message);
      choice = {record->confirmed, false, *record};
    }
  }
  if (choice.record.last_outcome == device::TrialOutcome::rolled_back && choice.record != *record) {
    log::component("boot").warn("{} did not confirm itself in its attempts; rolled back to slot {} ({})",
                                choice.record.last_outcome_version.to_string(), device::to_string(choice.slot),
                                choice.record.confirmed_version.to_string());
  }
  auto program = program_of(options, choice.slot);
  if (!program) {
    log::component("boot").error("slot {} has no program ({} is missing); starting the installed agent",
                                 device::to_string(choice.slot),
                                 linux_port::slot_image_path(options.update_dir, choice.slot).string());
    return {device::Slot::a, false, options.factory_program};
  }
  return {choice.slot, choice.trial, *program};
}

// True while the boot record still has `slot` on trial (not confirmed, not rolled back).
bool still_on_trial(const BootStepOptions& options, device::Slot slot) {
  auto record = linux_port::load_boot_record(linux_port::boot_record_path(options.update_dir), device::BootRecord{});
  return record && record->trial == slot;
}

}  // namespace

int run_boot_step(const BootStepOptions& options, const std::atomic<bool>& stop) {
  if (auto made = files::ensure_private_dir(options.update_dir); !made) {
    log::component("boot").error("{}", made.error().message);
    return 1;
  }
  auto delay = options.restart_delay;
  while (!stop.load()) {
    const Start start = next_start(options);
    log::component("boot").info("starting slot {}{}: {}", device::to_string(start.slot), start.trial ? " on trial" : "",
                                start.program.string());
    SpawnOptions spawn;
    spawn.environment = {std::string(kBootSlotVariable) + "=" + device::to_string(start.slot),
                         std::string(kBootTrialVariable) + "=" + (start.trial ? "1" : "0")};
    // A successor boot step must be able to start a program at once: this one may not linger.
    spawn.parent_death_signal = SIGKILL;
    const auto started = Clock::now();
    auto child = ChildProcess::spawn({start.program.string(), "run", "--config", options.config_file.string()}, spawn);
    if (!child) {
      log::component("boot").error("{}", child.error().message);
      sleep_unless_stopped(delay, stop);
      continue;
    }
    std::optional<ChildExit> ended;
    bool on_trial = start.trial;
    auto next_trial_check = started;
    while (!ended) {
      if (stop.load()) {
        ended = child->stop(options.stop_grace);
        log::component("boot").info("stopped slot {}'s program ({})", device::to_string(start.slot),
                                    ended ? ended->description : "gone");
        return 0;
      }
      ended = child->poll_exit();
      if (ended || !on_trial || Clock::now() < next_trial_check) {
        if (!ended) std::this_thread::sleep_for(50ms);
        continue;
      }
      next_trial_check = Clock::now() + 500ms;
      on_trial = still_on_trial(options, start.slot);
      if (on_trial && Clock::now() - started >= options.trial_timeout) {
        log::component("boot").warn("slot {} did not confirm itself within {} s; stopping it",
                                    device::to_string(start.slot),
                                    std::chrono::duration_cast<std::chrono::seconds>(options.trial_timeout).count());
        ended = child->stop(options.stop_grace);
      }
    }
    if (ended->status == kRestartIntoStagedImage) {
      log::component("boot").info("slot {}'s program staged an update; starting it", device::to_string(start.slot));
      delay = options.restart_delay;
      continue;
    }
    log::component("boot").warn("slot {}'s program {}", device::to_string(start.slot), ended->description);
    if (Clock::now() - started > 60s) delay = options.restart_delay;  // it ran well for a while
    if (!start.trial || !on_trial) {
      sleep_unless_stopped(delay, stop);
      delay = std::min(delay * 2, options.max_restart_delay);
    }
  }
  return 0;
}

}  // namespace kelvin::agent
