#include "kelvin/gateway/crl_renewer.hpp"

#include "kelvin/core/files.hpp"
#include "kelvin/core/time_format.hpp"
#include "kelvin/crypto/pem_inspection.hpp"
#include "kelvin/pki/certificate_authority.hpp"

namespace kelvin::gateway {

CrlRenewer::CrlRenewer(std::filesystem::path pki_dir, std::optional<std::string> passphrase,
                       std::chrono::seconds renew_before)
    : pki_dir_(std::move(pki_dir)), passphrase_(std::move(passphrase)), renew_before_(renew_before) {}

Result<CrlCheck> CrlRenewer::check(std::time_t now) {
  pki::PkiPaths paths(pki_dir_);
  auto pem = files::read_file(paths.crl());
  if (!pem) return std::move(pem).error();
  auto next_update_read = crypto::crl_next_update(*pem, paths.crl().string());
  if (!next_update_read) return std::move(next_update_read).error();
  const std::time_t next_update = *next_update_read;
  if (next_update - now > renew_before_.count()) return CrlCheck::fresh;

  const std::string expiry = format_utc_timestamp(next_update);
  auto ca = pki::CertificateAuthority::open(pki_dir_, passphrase_);
  if (!ca) {
    return make_error(ca.error().code, "the CRL expires " + expiry + " and cannot be renewed: " + ca.error().message);
  }
  auto renewed = ca->regenerate_crl(now);
  if (!renewed) {
    return make_error(renewed.error().code,
                      "the CRL expires " + expiry + " and cannot be renewed: " + renewed.error().message +
                          " (set KELVIN_CA_PASSPHRASE for the gateway, or run `kelvinctl pki crl` before then)");
  }
  return CrlCheck::renewed;
}

}  // namespace kelvin::gateway
