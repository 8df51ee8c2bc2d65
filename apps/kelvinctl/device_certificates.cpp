#include "device_certificates.hpp"

#include <utility>

namespace kelvin::ctl {
namespace {

bool usable(const pki::CertificateStatus& status) {
  return status.state == pki::CertificateState::valid || status.state == pki::CertificateState::not_yet_valid;
}

}  // namespace

std::vector<pki::CertificateStatus> device_certificates(const std::vector<pki::CertificateStatus>& all,
                                                        std::string_view device_id) {
  std::vector<pki::CertificateStatus> found;
  for (const auto& status : all) {
    if (status.record.kind == pki::CertificateKind::device && status.record.common_name == device_id) {
      found.push_back(status);
    }
  }
  return found;
}

std::optional<pki::CertificateStatus> current_certificate(const std::vector<pki::CertificateStatus>& certificates) {
  std::optional<pki::CertificateStatus> best;
  for (const auto& status : certificates) {
    if (usable(status) && (!best || status.record.not_after >= best->record.not_after)) best = status;
  }
  if (!best && !certificates.empty()) best = certificates.back();
  return best;
}

Result<std::vector<pki::IssuedCertificate>> revoke_device_certificates(pki::CertificateAuthority& ca,
                                                                       std::string_view device_id, std::time_t now) {
  std::vector<pki::IssuedCertificate> revoked;
  for (const auto& status : device_certificates(ca.list(now), device_id)) {
    if (!usable(status)) continue;
    auto done = ca.revoke(status.record.serial, now);
    if (!done) return std::move(done).error();
    revoked.insert(revoked.end(), done->begin(), done->end());
  }
  return revoked;
}

}  // namespace kelvin::ctl
