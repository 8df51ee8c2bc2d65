#include "kelvin/fleet/device_removal.hpp"

#include <string>

#include "kelvin/pki/device_certificates.hpp"

namespace kelvin::fleet {

Result<std::vector<pki::IssuedCertificate>> revoke_device(pki::CertificateAuthority& ca, std::string_view device_id,
                                                          std::time_t now) {
  const std::string id(device_id);
  if (pki::device_certificates(ca.list(now), id).empty()) {
    return make_error(Errc::not_found, "device '" + id + "' has no certificate");
  }
  auto revoked = pki::revoke_device_certificates(ca, id, now);
  if (!revoked) return std::move(revoked).error();
  if (revoked->empty()) {
    return make_error(Errc::conflict,
                      "nothing to revoke for device '" + id + "': its certificates are already revoked or expired");
  }
  return revoked;
}

Result<DeviceRemoval> remove_device(pki::CertificateAuthority& ca, store::Store* store, std::string_view device_id,
                                    bool purge, std::time_t now) {
  const std::string id(device_id);
  DeviceRemoval removal;
  if (store) {
    auto device = store->device(id);
    if (!device) return std::move(device).error();
    removal.stored = std::move(*device);
  }
  const auto certificates = pki::device_certificates(ca.list(now), id);
  removal.had_certificates = !certificates.empty();
  const auto current = pki::current_certificate(certificates);
  if (!removal.stored && !(current && pki::is_usable(*current))) {
    if (removal.had_certificates) {
      return make_error(Errc::not_found, "device '" + id +
                                             "' is already removed: it is not in the store and its certificates "
                                             "are revoked or expired");
    }
    return make_error(Errc::not_found, "device '" + id + "' is not known to the store or the PKI");
  }

  auto revoked = pki::revoke_device_certificates(ca, id, now);
  if (!revoked) return std::move(revoked).error();
  removal.revoked = std::move(*revoked);

  if (removal.stored) {
    if (auto removed = store->remove_device(id, purge); !removed) {
      return make_error(removed.error().code,
                        "cannot remove device '" + id + "' from the store: " + removed.error().message +
                            (removal.had_certificates ? " (its certificates are revoked already)" : ""));
    }
    removal.purged = purge;
  }
  return removal;
}

std::string revoked_serials_detail(const std::vector<pki::IssuedCertificate>& revoked) {
  std::string serials;
  for (const auto& record : revoked) serials += (serials.empty() ? "" : ",") + record.serial;
  return serials.empty() ? "none usable" : "serials " + serials;
}

}  // namespace kelvin::fleet
