#include "kelvin/pki/device_certificates.hpp"

#include <utility>

namespace kelvin::pki {

bool is_usable(const CertificateStatus& status) noexcept {
  return status.state == CertificateState::valid || status.state == CertificateState::not_yet_valid;
}

std::vector<CertificateStatus> device_certificates(const std::vector<CertificateStatus>& all,
                                                   std::string_view device_id) {
  std::vector<CertificateStatus> found;
  for (const auto& status : all) {
    if (status.record.kind == CertificateKind::device && status.record.common_name == device_id) {
      found.push_back(status);
    }
  }
  return found;
}

std::optional<CertificateStatus> current_certificate(const std::vector<CertificateStatus>& certificates) {
  std::optional<CertificateStatus> best;
  for (const auto& status : certificates) {
    if (is_usable(status) && (!best || status.record.not_after >= best->record.not_after)) best = status;
  }
  if (!best && !certificates.empty()) best = certificates.back();
  return best;
}

std::string_view state_name(CertificateState state) noexcept {
  switch (state) {
    case CertificateState::valid:
      return "valid";
    case CertificateState::not_yet_valid:
      return "not_yet_valid";
    case CertificateState::expired:
      return "expired";
    case CertificateState::revoked:
      return "revoked";
  }
  return "unknown";
}

Result<std::vector<IssuedCertificate>> revoke_device_certificates(CertificateAuthority& ca, std::string_view device_id,
                                                                  std::time_t now) {
  std::vector<IssuedCertificate> revoked;
  for (const auto& status : device_certificates(ca.list(now), device_id)) {
    if (!is_usable(status)) continue;
    auto done = ca.revoke(status.record.serial, now);
    if (!done) return std::move(done).error();
    revoked.insert(revoked.end(), done->begin(), done->end());
  }
  return revoked;
}

}  // namespace kelvin::pki
