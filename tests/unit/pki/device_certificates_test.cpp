// Which certificate speaks for a device (kelvinctl device list, the HTTPS API's device facts) and
// revoking a device's certificates (kelvinctl device revoke and remove).

#include "kelvin/pki/device_certificates.hpp"

#include <gtest/gtest.h>

#include "kelvin/testing/temp_dir.hpp"
#include "pki_test_support.hpp"

namespace kelvin::pki {
namespace {

using test_support::kDay;
using test_support::kNow;

CertificateStatus status(std::string serial, CertificateKind kind, std::string common_name, CertificateState state,
                         std::time_t not_after) {
  IssuedCertificate record;
  record.serial = std::move(serial);
  record.kind = kind;
  record.common_name = std::move(common_name);
  record.not_before = kNow - kDay;
  record.not_after = not_after;
  return CertificateStatus{record, state, 0};
}

TEST(DeviceCertificates, OnlyDeviceCertificatesOfThatIdCount) {
  const std::vector<CertificateStatus> all = {
      status("01", CertificateKind::server, "gw", CertificateState::valid, kNow + kDay),
      status("02", CertificateKind::device, "gw", CertificateState::revoked, kNow + kDay),
      status("03", CertificateKind::device, "other", CertificateState::valid, kNow + kDay),
      status("04", CertificateKind::device, "gw", CertificateState::valid, kNow + 2 * kDay),
  };
  auto found = device_certificates(all, "gw");
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].record.serial, "02");
  EXPECT_EQ(found[1].record.serial, "04");
}

TEST(DeviceCertificates, TheUsableOneThatExpiresLastSumsUpTheDevice) {
  EXPECT_FALSE(current_certificate({}).has_value());
  const std::vector<CertificateStatus> renewed = {
      status("01", CertificateKind::device, "d", CertificateState::valid, kNow + 3 * kDay),
      status("02", CertificateKind::device, "d", CertificateState::valid, kNow + 9 * kDay),
      status("03", CertificateKind::device, "d", CertificateState::revoked, kNow + 20 * kDay),
  };
  EXPECT_EQ(current_certificate(renewed)->record.serial, "02");
  // None usable: the newest, whatever its state.
  const std::vector<CertificateStatus> unusable = {
      status("01", CertificateKind::device, "d", CertificateState::expired, kNow - kDay),
      status("02", CertificateKind::device, "d", CertificateState::revoked, kNow + kDay),
  };
  EXPECT_EQ(current_certificate(unusable)->record.serial, "02");
}

TEST(DeviceCertificates, StateNamesAreStableSnakeCase) {
  EXPECT_EQ(state_name(CertificateState::valid), "valid");
  EXPECT_EQ(state_name(CertificateState::not_yet_valid), "not_yet_valid");
  EXPECT_EQ(state_name(CertificateState::expired), "expired");
  EXPECT_EQ(state_name(CertificateState::revoked), "revoked");
}

TEST(DeviceCertificates, RevokingTakesEveryUsableCertificateOfTheDeviceAndNothingElse) {
  kelvin::testing::TempDir tmp;
  auto ca = CertificateAuthority::init(tmp / "pki", test_support::test_init_options(), kNow);
  ASSERT_TRUE(ca.ok()) << ca.error().message;
  ASSERT_TRUE(ca->issue(CertificateKind::device, "d1", {}, kNow).ok());
  IssueOptions renew;
  renew.renew = true;
  ASSERT_TRUE(ca->issue(CertificateKind::device, "d1", renew, kNow).ok());
  ASSERT_TRUE(ca->issue(CertificateKind::device, "d2", {}, kNow).ok());

  auto revoked = revoke_device_certificates(*ca, "d1", kNow + 10);
  ASSERT_TRUE(revoked.ok()) << revoked.error().message;
  EXPECT_EQ(revoked->size(), 2u);
  for (const auto& certificate : ca->list(kNow + 20)) {
    EXPECT_EQ(certificate.state == CertificateState::revoked, certificate.record.common_name == "d1")
        << certificate.record.common_name;
  }
  auto again = revoke_device_certificates(*ca, "d1", kNow + 30);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
}

}  // namespace
}  // namespace kelvin::pki
