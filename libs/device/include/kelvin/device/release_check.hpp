#pragma once
// What a device decides about a release offered to it (docs/ota.md, "What a device accepts"),
// before it downloads a byte of the image. Portable: the Linux agent and a microcontroller port
// decide alike; the platform supplies the release key's cryptography (proto::ReleaseKey).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kelvin/proto/release_manifest.hpp"
#include "kelvin/proto/signed_envelope.hpp"

namespace kelvin::device {

// Why a release is refused. The names (to_string) are what the device reports on
// devices/{id}/ota/status and what the dashboard shows: stable.
enum class ReleaseRefusal {
  malformed,                 // not a well-formed envelope or manifest, or another payload type
  bad_signature,             // no valid signature by the pinned release key
  other_product,             // made for another product (a manifest replayed from other devices)
  not_newer,                 // its version is not above the running one (a downgrade or a replay)
  security_version_too_low,  // below the highest security version this device has accepted
  too_large,                 // the image does not fit the device's update slot
};

const char* to_string(ReleaseRefusal refusal) noexcept;

// What the device runs and remembers. highest_security_version only grows: it is persisted when
// an update is accepted, so a device never goes back below a security fix, even through a
// release signed by the right key.
struct RunningFirmware {
  std::string product;
  proto::FirmwareVersion version;
  std::uint32_t highest_security_version = 0;
  std::uint64_t slot_bytes = 0;  // the largest image the inactive slot holds
};

struct ReleaseDecision {
  std::optional<proto::ReleaseManifest> accepted;      // set when the release may be installed
  ReleaseRefusal refusal = ReleaseRefusal::malformed;  // otherwise, why not
  std::string detail;                                  // for people: what exactly was wrong
};

// Opens `envelope_text` with the pinned key (proto::open_release_envelope), then checks the
// manifest against what runs, in the order of the refusals above.
ReleaseDecision check_offered_release(std::string_view envelope_text, const proto::ReleaseKey& pinned,
                                      const RunningFirmware& running);

}  // namespace kelvin::device
