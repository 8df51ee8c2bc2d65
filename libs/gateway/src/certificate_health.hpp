#pragma once
// The installation's certificates as the gateway's metrics (docs/metrics.md) and alerts
// (docs/alerts.md) see them, read from the PKI directory each time: the certificates in use, for
// each kind the earliest expiry among them, and when the CRL must be renewed by.

#include <array>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kelvin/core/result.hpp"
#include "kelvin/pki/certificate_kind.hpp"

namespace kelvin::gateway {

// A certificate issued to a name before its last one, not revoked (it may have expired).
struct EarlierCertificate {
  std::string serial{};
  std::time_t not_after = 0;
};

// A certificate in use: the last one issued to its name, unless it is revoked.
struct CertificateInUse {
  pki::CertificateKind kind = pki::CertificateKind::device;
  std::string common_name{};
  std::time_t not_after = 0;
  std::string serial{};
  std::vector<EarlierCertificate> earlier{};  // oldest first
};

// Every certificate in use, from <pki_dir>/index.log, by kind and name.
Result<std::vector<CertificateInUse>> certificates_in_use(const std::filesystem::path& pki_dir);

struct CertificateHealth {
  // By pki::CertificateKind (ca, server, service, device): the earliest notAfter, in Unix seconds,
  // among the certificates in use, that is the last one issued to each name, unless it is revoked.
  // nullopt for a kind with none. A certificate reissued to a name replaces the older one here.
  std::array<std::optional<std::time_t>, 4> earliest_expiry{};
  std::optional<std::time_t> crl_next_update{};  // nullopt when the CRL cannot be read
};

// When the CRL in <pki_dir>/crl.pem must be renewed by.
Result<std::time_t> read_crl_next_update(const std::filesystem::path& pki_dir);

// Reads <pki_dir>/index.log and crl.pem. What cannot be read is left nullopt and logged (as a
// warning: a scrape goes on with the rest).
CertificateHealth read_certificate_health(const std::filesystem::path& pki_dir);

}  // namespace kelvin::gateway
