#pragma once
// What the gateway's metrics say about the installation's certificates (docs/metrics.md), read from
// the PKI directory at each scrape: for each kind of certificate, the earliest expiry among those
// in use, and when the CRL must be renewed by. A Prometheus alert on "expires within 30 days" needs
// nothing more.

#include <array>
#include <ctime>
#include <filesystem>
#include <optional>

namespace kelvin::gateway {

struct CertificateHealth {
  // By pki::CertificateKind (ca, server, service, device): the earliest notAfter, in Unix seconds,
  // among the certificates in use, that is the last one issued to each name, unless it is revoked.
  // nullopt for a kind with none. A certificate reissued to a name replaces the older one here.
  std::array<std::optional<std::time_t>, 4> earliest_expiry{};
  std::optional<std::time_t> crl_next_update{};  // nullopt when the CRL cannot be read
};

// Reads <pki_dir>/index.log and crl.pem. What cannot be read is left nullopt and logged (as a
// warning: a scrape goes on with the rest).
CertificateHealth read_certificate_health(const std::filesystem::path& pki_dir);

}  // namespace kelvin::gateway
