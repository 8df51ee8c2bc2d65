#pragma once
// A device's certificates in the installation's CA: which one speaks for the device, and revoking
// them. Only certificates of kind `device` count: a device id may equal another kind's CN (the
// server certificate's CN is the gateway's host name, "gw" say), so nothing here goes by name.
// Used by kelvinctl (device list, revoke, remove) and the gateway's HTTPS API (device facts).

#include <ctime>
#include <optional>
#include <string_view>
#include <vector>

#include "kelvin/core/result.hpp"
#include "kelvin/pki/certificate_authority.hpp"

namespace kelvin::pki {

// Valid or not yet valid: a certificate the device can (or soon can) connect with.
bool is_usable(const CertificateStatus& status) noexcept;

// The device certificates of `device_id` among `all` (CertificateAuthority::list), oldest first.
std::vector<CertificateStatus> device_certificates(const std::vector<CertificateStatus>& all,
                                                   std::string_view device_id);

// The certificate that sums up a device: the usable one that expires last, else the newest.
// nullopt when it has none.
std::optional<CertificateStatus> current_certificate(const std::vector<CertificateStatus>& certificates);

// Stable snake_case names for machine-readable output (JSON): valid, not_yet_valid, expired,
// revoked. (to_string(CertificateState) is for people: "not yet valid".)
std::string_view state_name(CertificateState state) noexcept;

// Revokes each of the device's certificates that is still usable, by serial, and regenerates the
// CRL. Returns what was revoked: empty when there was nothing to do.
Result<std::vector<IssuedCertificate>> revoke_device_certificates(CertificateAuthority& ca, std::string_view device_id,
                                                                  std::time_t now);

}  // namespace kelvin::pki
