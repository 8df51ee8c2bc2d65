// What the metrics read about the installation's certificates (certificate_health.hpp), on a real
// CA in a temporary directory: the earliest expiry per kind counts only the certificates in use
// (of each name the last one issued, unless revoked), and the CRL's next update.

#include "certificate_health.hpp"

#include <gtest/gtest.h>

#include "kelvin/pki/certificate_authority.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::gateway {
namespace {

using pki::CertificateKind;

constexpr std::time_t kT0 = 1'800'000'000;
constexpr std::time_t kDay = 86'400;

std::optional<std::time_t> earliest(const CertificateHealth& health, CertificateKind kind) {
  return health.earliest_expiry[static_cast<std::size_t>(kind)];
}

TEST(CertificateHealth, TheEarliestExpiryCountsOnlyTheCertificatesInUse) {
  kelvin::testing::TempDir dir;
  auto ca = pki::CertificateAuthority::init(dir / "pki", {}, kT0);
  ASSERT_TRUE(ca.ok()) << ca.error().message;
  auto issue = [&](const std::string& device, std::time_t at, bool renew = false) {
    pki::IssueOptions options;
    options.renew = renew;
    auto issued = ca->issue(CertificateKind::device, device, options, at);
    EXPECT_TRUE(issued.ok()) << issued.error().message;
    return issued.ok() ? issued->record.not_after : 0;
  };
  issue("d1", kT0 + kDay);      // the earliest, until it is renewed
  issue("d2", kT0 + 2 * kDay);  // the next, until it is revoked
  const std::time_t d3 = issue("d3", kT0 + 3 * kDay);
  const std::time_t d1_renewed = issue("d1", kT0 + 4 * kDay, /*renew=*/true);
  ASSERT_LT(d3, d1_renewed);
  auto revoked = ca->revoke("d2", kT0 + 5 * kDay);
  ASSERT_TRUE(revoked.ok()) << revoked.error().message;

  const CertificateHealth health = read_certificate_health(dir / "pki");
  EXPECT_EQ(earliest(health, CertificateKind::device), d3);
  for (CertificateKind kind : {CertificateKind::ca, CertificateKind::server, CertificateKind::service}) {
    ASSERT_TRUE(earliest(health, kind).has_value()) << pki::to_string(kind);
    EXPECT_GT(*earliest(health, kind), kT0) << pki::to_string(kind);
  }
  EXPECT_EQ(health.crl_next_update, kT0 + 5 * kDay + pki::kCrlValidityDays * kDay) << "the revocation's CRL";
}

TEST(CertificateHealth, WithoutAnInstallationNothingIsKnown) {
  kelvin::testing::TempDir dir;
  const CertificateHealth health = read_certificate_health(dir / "no-pki");
  for (const auto& expiry : health.earliest_expiry) EXPECT_FALSE(expiry.has_value());
  EXPECT_FALSE(health.crl_next_update.has_value());
}

}  // namespace
}  // namespace kelvin::gateway
