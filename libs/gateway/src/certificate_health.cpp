#include "certificate_health.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "kelvin/core/files.hpp"
#include "kelvin/crypto/pem_inspection.hpp"
#include "kelvin/log/log.hpp"
#include "kelvin/pki/certificate_authority.hpp"
#include "kelvin/pki/certificate_index.hpp"

namespace kelvin::gateway {

static_assert(static_cast<std::size_t>(pki::CertificateKind::device) + 1 ==
              std::tuple_size_v<decltype(CertificateHealth::earliest_expiry)>);

Result<std::vector<CertificateInUse>> certificates_in_use(const std::filesystem::path& pki_dir) {
  auto index = pki::CertificateIndex::load(pki::PkiPaths(pki_dir).index());
  if (!index) return std::move(index).error();
  // The journal lists certificates in the order they were issued: the last one per name wins.
  std::map<std::pair<pki::CertificateKind, std::string>, std::vector<const pki::IssuedCertificate*>> issued;
  for (const auto& certificate : index->certificates()) {
    issued[{certificate.kind, certificate.common_name}].push_back(&certificate);
  }
  std::vector<CertificateInUse> in_use;
  for (const auto& [name, certificates] : issued) {
    const pki::IssuedCertificate& last = *certificates.back();
    if (last.revoked_at) continue;
    CertificateInUse& out = in_use.emplace_back(CertificateInUse{
        .kind = name.first, .common_name = name.second, .not_after = last.not_after, .serial = last.serial});
    for (std::size_t i = 0; i + 1 < certificates.size(); ++i) {
      if (!certificates[i]->revoked_at) {
        out.earlier.push_back({.serial = certificates[i]->serial, .not_after = certificates[i]->not_after});
      }
    }
  }
  return in_use;
}

Result<std::time_t> read_crl_next_update(const std::filesystem::path& pki_dir) {
  const std::filesystem::path crl_file = pki::PkiPaths(pki_dir).crl();
  auto crl = files::read_file(crl_file);
  if (!crl) return std::move(crl).error();
  return crypto::crl_next_update(*crl, crl_file.string());
}

CertificateHealth read_certificate_health(const std::filesystem::path& pki_dir) {
  CertificateHealth health;
  if (auto in_use = certificates_in_use(pki_dir); in_use) {
    for (const auto& certificate : *in_use) {
      auto& earliest = health.earliest_expiry[static_cast<std::size_t>(certificate.kind)];
      earliest = earliest ? std::min(*earliest, certificate.not_after) : certificate.not_after;
    }
  } else {
    log::component("metrics").warn("cannot read the certificate index: {}", in_use.error().message);
  }
  if (auto next_update = read_crl_next_update(pki_dir); next_update) {
    health.crl_next_update = *next_update;
  } else {
    log::component("metrics").warn("cannot read the CRL: {}", next_update.error().message);
  }
  return health;
}

}  // namespace kelvin::gateway
