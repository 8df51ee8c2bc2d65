#pragma once
// The messages of a firmware update between a gateway and a device (docs/protocol.md, "Updates";
// docs/ota.md). Portable: a device decodes notices and encodes its statuses with this code.
//
//   notice, gateway → device: MQTT devices/{id}/ota (retained; an empty payload clears it) and the
//   answer of GET /api/v1/devices/{id}/update:
//     {"rollout":17,"product":"thermo-linux","version":"1.1.0"}
//   status, device → gateway: MQTT devices/{id}/ota/status and POST /api/v1/devices/{id}/ota/status:
//     {"rollout":17,"product":"thermo-linux","version":"1.1.0","state":"downloading","percent":42,
//      "reason":"","detail":"…","running_version":"1.0.0"}
//
// A notice only says which release to look at: what the device installs is decided by the signed
// manifest it then fetches (release_check.hpp), so a forged notice can at most make a device look.

#include <cstdint>
#include <string>
#include <string_view>

#include "kelvin/core/result.hpp"
#include "kelvin/proto/release_manifest.hpp"

namespace kelvin::proto {

struct UpdateNotice {
  std::uint64_t rollout = 0;  // the rollout that offers it; 0 when unknown
  std::string product;
  FirmwareVersion version;

  bool operator==(const UpdateNotice&) const = default;
};

std::string encode_update_notice(const UpdateNotice& notice);
// Strict: exactly the three members, a valid product name and version. Errc::invalid_argument
// with a one-line reason otherwise.
Result<UpdateNotice> decode_update_notice(std::string_view json);

enum class UpdateState : std::uint8_t {
  downloading,  // `percent` of the image is in the inactive slot
  installed,    // checked and staged: the device restarts into it
  confirmed,    // the new image started, connected and had a reading acknowledged
  failed,       // refused or could not be installed: `reason` says why; the running image is untouched
  rolled_back,  // the new image did not confirm itself: the device runs the previous one again
};

const char* to_string(UpdateState state) noexcept;

struct UpdateStatus {
  std::uint64_t rollout = 0;  // 0 when the device does not know it (e.g. after a restart)
  std::string product;        // the release the status is about
  FirmwareVersion version;
  UpdateState state = UpdateState::downloading;
  int percent = 0;     // 0..100
  std::string reason;  // with failed: a short code (release_check.hpp, image_download.hpp refusals)
  std::string detail;  // for people; at most kMaxUpdateDetailBytes are sent
  FirmwareVersion running_version;
};

inline constexpr std::size_t kMaxUpdateDetailBytes = 512;

std::string encode_update_status(const UpdateStatus& status);

}  // namespace kelvin::proto
