#pragma once
// The agent's A/B boot record on Linux (kelvin/device/boot_control.hpp): one small JSON file,
// replaced atomically (write, fsync, rename, fsync the directory), so a power cut at any moment
// leaves the old record or the new one, never a mix.
//
//   {"format":1,"confirmed":"a","confirmed_version":"1.0.0","trial":"b","trial_version":"1.1.0",
//    "trial_security_version":3,"attempts_left":2,"highest_security_version":2,
//    "last_outcome":"none","last_outcome_version":"0.0.0"}
//
// ("trial": null when none.)

#include <filesystem>

#include "kelvin/core/result.hpp"
#include "kelvin/device/boot_control.hpp"

namespace kelvin::linux_port {

// The record in `file`; `fresh` when the file does not exist (a device before its first update).
// Errc::corrupt, naming the file, for anything else than a record as above: the device must not
// guess which image to start.
Result<device::BootRecord> load_boot_record(const std::filesystem::path& file, const device::BootRecord& fresh);

// Replaces `file` atomically with `record` (mode 0600).
Result<void> save_boot_record(const std::filesystem::path& file, const device::BootRecord& record);

// The update directory's layout (agent.toml [update] dir; slot_files.hpp lists its files).
std::filesystem::path boot_record_path(const std::filesystem::path& update_dir);
std::filesystem::path slot_path(const std::filesystem::path& update_dir, device::Slot slot);
std::filesystem::path slot_image_path(const std::filesystem::path& update_dir, device::Slot slot);

}  // namespace kelvin::linux_port
