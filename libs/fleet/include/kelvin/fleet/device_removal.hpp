#pragma once
// Taking a device out of the installation, the same way from kelvinctl (`device revoke`, `device
// remove`) and from the gateway's HTTPS API (operators): its certificates are revoked first (the
// CRL is signed again, and the broker and the HTTPS server refuse the device once they reload it,
// within about a second), then its registration leaves the store. Revoking first means a failure
// of the CA (a wrong passphrase, say) changes nothing.

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/core/result.hpp"
#include "kelvin/pki/certificate_authority.hpp"
#include "kelvin/store/store.hpp"

namespace kelvin::fleet {

// Revokes each of the device's usable certificates and regenerates the CRL. Needs the CA key.
// Returns what was revoked; refused, with nothing changed:
//   Errc::not_found  the device has no certificate at all;
//   Errc::conflict   its certificates are all revoked or expired already.
Result<std::vector<pki::IssuedCertificate>> revoke_device(pki::CertificateAuthority& ca, std::string_view device_id,
                                                          std::time_t now);

// What remove_device found and did.
struct DeviceRemoval {
  std::vector<pki::IssuedCertificate> revoked;  // revoked now; empty when none was usable any more
  bool had_certificates = false;                // it had certificates (usable or not) before
  std::optional<store::DeviceInfo> stored;      // its store record before removal; nullopt: none
  bool purged = false;                          // its data was deleted with it
};

// Revokes the device's usable certificates, then removes its registration and status from
// `store` (null when there is no store yet), keeping its readings unless `purge`
// (Store::remove_device). Refused with Errc::not_found, nothing changed, when the store does not
// know the device and it has no usable certificate: never known, or removed already (the message
// says which). A store failure after the revocation is reported as such (the certificates stay
// revoked: removing again finishes the job).
Result<DeviceRemoval> remove_device(pki::CertificateAuthority& ca, store::Store* store, std::string_view device_id,
                                    bool purge, std::time_t now);

// The audit log's detail for a revocation: "serials A,B", or "none usable" when nothing was revoked.
std::string revoked_serials_detail(const std::vector<pki::IssuedCertificate>& revoked);

}  // namespace kelvin::fleet
