#pragma once
// The Linux agent's side of a firmware update up to the reboot (docs/ota.md, "The device's
// update"): fetch a release's signed manifest from the gateway, decide on it
// (device::check_offered_release), download the image into the inactive slot in ranges, resuming
// an interrupted download of the same release, check it (device::ImageDownload), and stage it in
// the boot record (device::stage_trial). Starting the staged slot, confirming and rolling back
// belong to the boot step.
//
// Files in `dir` (0700):
//   boot.json                     the boot record (boot_record_file.hpp)
//   slots/<a|b>/image             a slot's program (0755) and its signed manifest, as fetched
//   slots/<a|b>/manifest
//   slots/<a|b>/download.partial  a download in progress and the manifest it is for; a later
//   slots/<a|b>/download.manifest install of the same release resumes after the bytes it holds
//
// Every step that matters is durable before the next: the partial image is synced before it
// becomes `image`, and `image` and `manifest` are in place before the boot record names the slot.
// A crash at any point leaves the confirmed slot and the boot record as they were, or the new
// release staged.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "kelvin/core/result.hpp"
#include "kelvin/device/boot_control.hpp"
#include "kelvin/device/image_download.hpp"
#include "kelvin/device/release_check.hpp"
#include "kelvin/linux_port/https_client.hpp"

namespace kelvin::linux_port {

// Bytes asked for per image request: what the HTTPS client keeps of an answer.
inline constexpr std::uint64_t kImageRangeBytes = 64 * 1024;

struct InstallRequest {
  std::string device_id;  // the client certificate's CN: the routes are under its id
  std::string product;    // the release to fetch
  proto::FirmwareVersion version;
  std::string running_product;  // what this device runs, for the decision
  proto::FirmwareVersion running_version;
  std::uint64_t slot_bytes = 256ull << 20;  // the largest image a slot takes
  std::uint32_t trial_attempts = device::kDefaultTrialAttempts;  // starts the staged image gets
};

struct InstallOutcome {
  // Set when the release is staged in the boot record; its slot starts at the next start.
  std::optional<device::Slot> staged;
  std::optional<device::ReleaseRefusal> refused;            // refused before the download
  std::optional<device::DownloadRefusal> download_refused;  // refused during or after it
  std::string detail;                                       // for people: what happened
  std::uint64_t resumed_from = 0;                           // bytes of an earlier download reused
};

class ReleaseInstaller {
 public:
  // `channel` talks to the gateway (HttpsClient); `pinned` is the release key built into the
  // device; `progress` (optional) hears the download's percent as it moves.
  ReleaseInstaller(HttpsChannel& channel, const proto::ReleaseKey& pinned, std::filesystem::path dir,
                   std::function<void(int percent)> progress = {});

  // Errc::timed_out / crypto / io when the gateway could not be reached or answered an error
  // (the message says which); otherwise the outcome, staged or refused.
  Result<InstallOutcome> install(const InstallRequest& request);

  // An install in progress gives up (Errc::timed_out, "stopped") soon after `flag` becomes true:
  // at the next poll of its request, within a second. What it downloaded stays to be resumed.
  void stop_when(const std::atomic<bool>& flag) { stop_ = &flag; }

 private:
  HttpsChannel& channel_;
  const proto::ReleaseKey& pinned_;
  std::filesystem::path dir_;
  std::function<void(int)> progress_;
  const std::atomic<bool>* stop_ = nullptr;
};

}  // namespace kelvin::linux_port
