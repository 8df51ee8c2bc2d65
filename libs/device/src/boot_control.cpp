#include "kelvin/device/boot_control.hpp"

#include <algorithm>

namespace kelvin::device {

const char* to_string(Slot slot) noexcept {
  return slot == Slot::a ? "a" : "b";
}

Slot other_slot(Slot slot) noexcept {
  return slot == Slot::a ? Slot::b : Slot::a;
}

const char* to_string(TrialOutcome outcome) noexcept {
  switch (outcome) {
    case TrialOutcome::none:
      return "none";
    case TrialOutcome::confirmed:
      return "confirmed";
    case TrialOutcome::rolled_back:
      return "rolled_back";
  }
  return "none";
}

BootChoice choose_boot_slot(const BootRecord& current) {
  BootChoice choice;
  choice.record = current;
  if (current.trial && current.attempts_left > 0) {
    choice.slot = *current.trial;
    choice.trial = true;
    --choice.record.attempts_left;  // used up before the start, so a start that never returns counts
    return choice;
  }
  if (current.trial) {  // out of attempts: back to the confirmed image, and say so
    choice.record.trial.reset();
    choice.record.last_outcome = TrialOutcome::rolled_back;
    choice.record.last_outcome_version = current.trial_version;
  }
  choice.slot = current.confirmed;
  return choice;
}

BootRecord stage_trial(const BootRecord& current, const proto::FirmwareVersion& version, std::uint32_t security_version,
                       std::uint32_t attempts) {
  BootRecord next = current;
  next.trial = other_slot(current.confirmed);
  next.trial_version = version;
  next.trial_security_version = security_version;
  next.attempts_left = std::max<std::uint32_t>(attempts, 1);
  return next;
}

BootRecord confirm_trial(const BootRecord& current, Slot running) {
  if (!current.trial || *current.trial != running) return current;
  BootRecord next = current;
  next.confirmed = running;
  next.confirmed_version = current.trial_version;
  next.highest_security_version = std::max(current.highest_security_version, current.trial_security_version);
  next.trial.reset();
  next.attempts_left = 0;
  next.last_outcome = TrialOutcome::confirmed;
  next.last_outcome_version = current.trial_version;
  return next;
}

BootRecord outcome_reported(const BootRecord& current) {
  BootRecord next = current;
  next.last_outcome = TrialOutcome::none;
  return next;
}

}  // namespace kelvin::device
