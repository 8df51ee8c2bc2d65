#include "kelvin/device/release_check.hpp"

#include <utility>

namespace kelvin::device {
namespace {

ReleaseDecision refused(ReleaseRefusal refusal, std::string detail) {
  ReleaseDecision decision;
  decision.refusal = refusal;
  decision.detail = std::move(detail);
  return decision;
}

}  // namespace

const char* to_string(ReleaseRefusal refusal) noexcept {
  switch (refusal) {
    case ReleaseRefusal::malformed:
      return "malformed";
    case ReleaseRefusal::bad_signature:
      return "bad_signature";
    case ReleaseRefusal::other_product:
      return "other_product";
    case ReleaseRefusal::not_newer:
      return "not_newer";
    case ReleaseRefusal::security_version_too_low:
      return "security_version_too_low";
    case ReleaseRefusal::too_large:
      return "too_large";
  }
  return "malformed";
}

ReleaseDecision check_offered_release(std::string_view envelope_text, const proto::ReleaseKey& pinned,
                                      const RunningFirmware& running) {
  auto opened = proto::open_release_envelope(envelope_text, pinned);
  if (!opened) {
    const bool signature = opened.error().code == Errc::bad_credentials;
    return refused(signature ? ReleaseRefusal::bad_signature : ReleaseRefusal::malformed,
                   std::move(opened).error().message);
  }
  proto::ReleaseManifest& manifest = *opened;
  if (manifest.product != running.product) {
    return refused(ReleaseRefusal::other_product,
                   "the release is for product " + manifest.product + ", this device runs " + running.product);
  }
  if (manifest.version <= running.version) {
    return refused(ReleaseRefusal::not_newer, "the release's version " + manifest.version.to_string() +
                                                  " is not newer than the running " + running.version.to_string());
  }
  if (manifest.security_version < running.highest_security_version) {
    return refused(ReleaseRefusal::security_version_too_low,
                   "the release's security version " + std::to_string(manifest.security_version) + " is below " +
                       std::to_string(running.highest_security_version) + ", the highest this device has accepted");
  }
  if (manifest.size > running.slot_bytes) {
    return refused(ReleaseRefusal::too_large, "the image of " + std::to_string(manifest.size) +
                                                  " bytes does not fit the update slot of " +
                                                  std::to_string(running.slot_bytes) + " bytes");
  }
  ReleaseDecision decision;
  decision.accepted = std::move(manifest);
  return decision;
}

}  // namespace kelvin::device
