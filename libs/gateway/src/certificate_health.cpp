#include "certificate_health.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "kelvin/core/files.hpp"
#include "kelvin/crypto/pem_inspection.hpp"
#include "kelvin/pki/certificate_authority.hpp"
#include "kelvin/pki/certificate_index.hpp"

namespace kelvin::gateway {

static_assert(static_cast<std::size_t>(pki::CertificateKind::device) + 1 ==
              std::tuple_size_v<decltype(CertificateHealth::earliest_expiry)>);

CertificateHealth read_certificate_health(const std::filesystem::path& pki_dir) {
  CertificateHealth health;
  const pki::PkiPaths paths(pki_dir);
  if (auto index = pki::CertificateIndex::load(paths.index()); index) {
    // The journal lists certificates in the order they were issued: the last one per name wins.
    std::map<std::pair<pki::CertificateKind, std::string>, const pki::IssuedCertificate*> in_use;
    for (const auto& certificate : index->certificates()) {
      in_use[{certificate.kind, certificate.common_name}] = &certificate;
    }
    for (const auto& [name, certificate] : in_use) {
      if (certificate->revoked_at) continue;
      auto& earliest = health.earliest_expiry[static_cast<std::size_t>(name.first)];
      earliest = earliest ? std::min(*earliest, certificate->not_after) : certificate->not_after;
    }
  } else {
    spdlog::warn("metrics: cannot read the certificate index: {}", index.error().message);
  }
  auto crl = files::read_file(paths.crl());
  auto next_update = crl ? crypto::crl_next_update(*crl, paths.crl().string()) : Result<std::time_t>(crl.error());
  if (next_update) {
    health.crl_next_update = *next_update;
  } else {
    spdlog::warn("metrics: cannot read the CRL: {}", next_update.error().message);
  }
  return health;
}

}  // namespace kelvin::gateway
