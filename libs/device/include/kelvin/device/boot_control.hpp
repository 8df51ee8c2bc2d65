#pragma once
// Which firmware slot a device starts, and when a new image becomes the one it keeps (docs/ota.md,
// "A/B slots"). Portable: the decisions are pure functions of a BootRecord that the port persists
// atomically (Linux: write, fsync, rename, fsync the directory; a microcontroller: its boot
// partition's metadata), so a power cut at any moment leaves either the old record or the new one.
//
// The protocol, MCUboot's "test" swap in spirit:
//   1. The running, confirmed image downloads a new one into the other slot, checks it, and stages
//      it: stage_trial() gives the record with that slot on trial and a number of attempts.
//   2. At each start, choose_boot_slot() decides, and the port persists its `record` BEFORE it
//      starts the slot: a trial start uses up an attempt first, so an image that crashes, hangs or
//      cuts the power during its start cannot be started forever.
//   3. The trial image calls confirm_trial() (persisted) once it is healthy: connected, a reading
//      acknowledged. From then on it is the confirmed slot.
//   4. A start that finds the trial out of attempts rolls back: the confirmed slot runs, and the
//      record says the trial was rolled back, for the device to report.

#include <cstdint>
#include <optional>
#include <string>

#include "kelvin/proto/release_manifest.hpp"

namespace kelvin::device {

enum class Slot : std::uint8_t { a, b };

const char* to_string(Slot slot) noexcept;
Slot other_slot(Slot slot) noexcept;

// How the last trial ended, for the device to report once (then cleared with outcome_reported()).
enum class TrialOutcome : std::uint8_t { none, confirmed, rolled_back };

const char* to_string(TrialOutcome outcome) noexcept;

struct BootRecord {
  Slot confirmed = Slot::a;  // the slot known to run well
  proto::FirmwareVersion confirmed_version;
  std::optional<Slot> trial;             // a staged image not confirmed yet
  proto::FirmwareVersion trial_version;  // its version (meaningful with `trial`)
  std::uint32_t trial_security_version = 0;
  std::uint32_t attempts_left = 0;  // starts the trial may still have
  // The highest security version ever confirmed: an offered release below it is refused
  // (release_check.hpp), even one signed by the right key.
  std::uint32_t highest_security_version = 0;
  TrialOutcome last_outcome = TrialOutcome::none;
  proto::FirmwareVersion last_outcome_version;  // the trial the outcome is about

  bool operator==(const BootRecord&) const = default;
};

// What to start, and the record to persist before starting it.
struct BootChoice {
  Slot slot = Slot::a;
  bool trial = false;  // starting an unconfirmed image: it must confirm itself
  BootRecord record;
};

inline constexpr std::uint32_t kDefaultTrialAttempts = 3;

BootChoice choose_boot_slot(const BootRecord& current);

// The record with `version` staged in the slot that is not confirmed (any earlier trial replaced),
// with `attempts` starts (at least 1). Precondition: the image is in that slot, complete and
// checked against its signed manifest.
BootRecord stage_trial(const BootRecord& current, const proto::FirmwareVersion& version, std::uint32_t security_version,
                       std::uint32_t attempts = kDefaultTrialAttempts);

// The record once the image running from `running` is healthy. Confirming the confirmed slot
// changes nothing; confirming a trial makes it the confirmed slot and raises
// highest_security_version to its security version.
BootRecord confirm_trial(const BootRecord& current, Slot running);

// The record with the last outcome cleared, once the device has reported it.
BootRecord outcome_reported(const BootRecord& current);

}  // namespace kelvin::device
