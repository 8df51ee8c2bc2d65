#pragma once
// A device's certificates in the installation's CA: which one speaks for the device, and revoking
// them. Only certificates of kind `device` count: a device id may equal another kind's CN (the
// server certificate's CN is the gateway's host name, "gw" say), so nothing here goes by name.

#include <ctime>
#include <optional>
#include <string_view>
#include <vector>

#include "kelvin/core/result.hpp"
#include "kelvin/pki/certificate_authority.hpp"

namespace kelvin::ctl {

// The device certificates of `device_id` among `all` (CertificateAuthority::list), oldest first.
std::vector<pki::CertificateStatus> device_certificates(const std::vector<pki::CertificateStatus>& all,
                                                        std::string_view device_id);

// The certificate that sums up a device: the usable one (valid or not yet valid) that expires
// last, else the newest. nullopt when it has none.
std::optional<pki::CertificateStatus> current_certificate(const std::vector<pki::CertificateStatus>& certificates);

// Revokes each of the device's certificates that is still usable (valid or not yet valid), by
// serial, and regenerates the CRL. Returns what was revoked: empty when there was nothing to do.
Result<std::vector<pki::IssuedCertificate>> revoke_device_certificates(pki::CertificateAuthority& ca,
                                                                       std::string_view device_id, std::time_t now);

}  // namespace kelvin::ctl
