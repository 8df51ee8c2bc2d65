// CertificateAuthority: revocation, CRLs, list() and verify().
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/core/files.hpp"
#include "kelvin/crypto/x509.hpp"
#include "kelvin/pki/certificate_authority.hpp"
#include "kelvin/testing/temp_dir.hpp"
#include "pki_test_support.hpp"

namespace kelvin::pki {
namespace {

namespace fs = std::filesystem;
using kelvin::testing::TempDir;

using namespace test_support;  // NOLINT(google-build-using-namespace): test-only helpers

crypto::Crl read_crl(const fs::path& path) {
  auto crl = crypto::crl_from_pem(read_text(path), path.string());
  if (!crl.ok()) {
    ADD_FAILURE() << crl.error().message;
    return nullptr;
  }
  return std::move(crl).value();
}

long crl_number(X509_CRL* crl) {
  crypto::Asn1Integer number(static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(crl, NID_crl_number, nullptr, nullptr)));
  return number ? ASN1_INTEGER_get(number.get()) : -1;
}

bool crl_lists(X509_CRL* crl, const std::string& serial_hex) {
  auto serial = crypto::serial_from_hex(serial_hex);
  if (!serial.ok()) return false;
  X509_REVOKED* entry = nullptr;
  return X509_CRL_get0_by_serial(crl, &entry, serial->get()) == 1;
}

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string openssl_reason(int code) {
  return X509_verify_cert_error_string(code);
}

bool has_problem(const VerificationReport& report, std::string_view needle) {
  return std::any_of(report.problems.begin(), report.problems.end(),
                     [&](const std::string& problem) { return problem.find(needle) != std::string::npos; });
}

std::string describe(const VerificationReport& report) {
  std::string out = report.problems.empty() ? "no problems" : "problems:";
  for (const auto& problem : report.problems) out += "\n  - " + problem;
  return out;
}

class CaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ca = CertificateAuthority::init(dir_, test_init_options(), kNow);
    ASSERT_TRUE(ca.ok()) << ca.error().message;
    ca_.emplace(std::move(ca).value());
  }

  IssuedIdentity issue_device(const std::string& id, IssueOptions options = {}, std::time_t now = kNow) {
    auto issued = ca_->issue(CertificateKind::device, id, options, now);
    if (!issued.ok()) throw std::runtime_error("issue " + id + ": " + issued.error().message);
    return std::move(issued).value();
  }

  const IssuedCertificate* record_of(const std::string& serial) const { return ca_->index().find_serial(serial); }

  TempDir tmp_;
  fs::path dir_ = tmp_ / "pki";
  std::optional<CertificateAuthority> ca_;
};

// ---- revocation --------------------------------------------------------------------------------

TEST_F(CaTest, RevokeByIdRecordsItAndPublishesANewCrl) {
  IssuedIdentity device = issue_device("sensor-01");
  issue_device("sensor-02");
  crypto::Crl before = read_crl(ca_->paths().crl());
  ASSERT_TRUE(before != nullptr);
  const long number_before = crl_number(before.get());
  EXPECT_FALSE(crl_lists(before.get(), device.record.serial));

  auto revoked = ca_->revoke("sensor-01", kNow);
  ASSERT_TRUE(revoked.ok()) << revoked.error().message;
  ASSERT_EQ(revoked->size(), 1u);
  EXPECT_EQ((*revoked)[0].serial, device.record.serial);
  EXPECT_EQ((*revoked)[0].revoked_at, kNow);

  ASSERT_NE(record_of(device.record.serial), nullptr);
  EXPECT_EQ(record_of(device.record.serial)->revoked_at, kNow);
  auto on_disk = CertificateIndex::load(ca_->paths().index());
  ASSERT_TRUE(on_disk.ok()) << on_disk.error().message;
  EXPECT_EQ(on_disk->find_serial(device.record.serial)->revoked_at, kNow);

  crypto::Crl after = read_crl(ca_->paths().crl());
  ASSERT_TRUE(after != nullptr);
  EXPECT_EQ(X509_CRL_verify(after.get(), X509_get0_pubkey(ca_->certificate())), 1);
  EXPECT_TRUE(crl_lists(after.get(), device.record.serial));
  EXPECT_EQ(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(after.get())), 1);  // sensor-02 untouched
  EXPECT_GT(crl_number(after.get()), number_before);
  EXPECT_EQ(static_cast<std::uint64_t>(crl_number(after.get())), ca_->index().last_crl_number());
  EXPECT_EQ(crypto::to_unix_seconds(X509_CRL_get0_nextUpdate(after.get())), kNow + kCrlValidityDays * kDay);
  auto mode = files::permissions_of(ca_->paths().crl());
  ASSERT_TRUE(mode.ok());
  EXPECT_EQ(*mode, 0644u);
}

TEST_F(CaTest, RevokeByIdRevokesEveryUnrevokedCertificateOfThatId) {
  IssuedIdentity first = issue_device("sensor-01");
  IssueOptions renew;
  renew.renew = true;
  IssuedIdentity second = issue_device("sensor-01", renew);
  auto revoked = ca_->revoke("sensor-01", kNow);
  ASSERT_TRUE(revoked.ok()) << revoked.error().message;
  ASSERT_EQ(revoked->size(), 2u);
  crypto::Crl crl = read_crl(ca_->paths().crl());
  ASSERT_TRUE(crl != nullptr);
  EXPECT_TRUE(crl_lists(crl.get(), first.record.serial));
  EXPECT_TRUE(crl_lists(crl.get(), second.record.serial));
}

TEST_F(CaTest, RevokeBySerialInEitherCase) {
  IssuedIdentity upper = issue_device("sensor-01");
  IssuedIdentity lower = issue_device("sensor-02");
  IssuedIdentity untouched = issue_device("sensor-03");

  auto by_upper = ca_->revoke(upper.record.serial, kNow);
  ASSERT_TRUE(by_upper.ok()) << by_upper.error().message;
  ASSERT_EQ(by_upper->size(), 1u);
  EXPECT_EQ((*by_upper)[0].serial, upper.record.serial);

  const std::string lowered = lowercase(lower.record.serial);
  ASSERT_NE(lowered, lower.record.serial);  // a 128-bit serial without letters is a ~2^-30 event
  auto by_lower = ca_->revoke(lowered, kNow);
  ASSERT_TRUE(by_lower.ok()) << by_lower.error().message;
  ASSERT_EQ(by_lower->size(), 1u);
  EXPECT_EQ((*by_lower)[0].serial, lower.record.serial);

  EXPECT_TRUE(record_of(upper.record.serial)->revoked_at.has_value());
  EXPECT_TRUE(record_of(lower.record.serial)->revoked_at.has_value());
  EXPECT_FALSE(record_of(untouched.record.serial)->revoked_at.has_value());
  crypto::Crl crl = read_crl(ca_->paths().crl());
  ASSERT_TRUE(crl != nullptr);
  EXPECT_TRUE(crl_lists(crl.get(), upper.record.serial));
  EXPECT_TRUE(crl_lists(crl.get(), lower.record.serial));
  EXPECT_FALSE(crl_lists(crl.get(), untouched.record.serial));
}

TEST_F(CaTest, RevokingTwiceIsAConflict) {
  IssuedIdentity device = issue_device("sensor-01");
  ASSERT_TRUE(ca_->revoke("sensor-01", kNow).ok());
  const std::string index_before = read_text(ca_->paths().index());
  for (const std::string& target : {std::string("sensor-01"), device.record.serial}) {
    auto again = ca_->revoke(target, kNow + 60);
    ASSERT_FALSE(again.ok()) << target;
    EXPECT_EQ(again.error().code, Errc::conflict) << target;
  }
  EXPECT_EQ(record_of(device.record.serial)->revoked_at, kNow);
  EXPECT_EQ(read_text(ca_->paths().index()), index_before);
}

TEST_F(CaTest, RevokingUnknownIsNotFound) {
  issue_device("sensor-01");
  const std::string index_before = read_text(ca_->paths().index());
  for (const char* target : {"nobody", "DEADBEEF", ""}) {
    auto revoked = ca_->revoke(target, kNow);
    ASSERT_FALSE(revoked.ok()) << target;
    EXPECT_EQ(revoked.error().code, Errc::not_found) << target;
  }
  EXPECT_EQ(read_text(ca_->paths().index()), index_before);
}

TEST_F(CaTest, TheCaCannotBeRevoked) {
  const std::string ca_serial = crypto::serial_to_hex(X509_get0_serialNumber(ca_->certificate()));
  const std::string index_before = read_text(ca_->paths().index());
  for (const std::string& target : {ca_serial, lowercase(ca_serial), std::string("kelvin test CA")}) {
    auto revoked = ca_->revoke(target, kNow);
    ASSERT_FALSE(revoked.ok()) << target;
    EXPECT_EQ(revoked.error().code, Errc::invalid_argument) << target;
  }
  EXPECT_FALSE(record_of(ca_serial)->revoked_at.has_value());
  EXPECT_EQ(read_text(ca_->paths().index()), index_before);
}

TEST_F(CaTest, RevokedIdCanBeIssuedAgainWithoutRenew) {
  issue_device("sensor-01");
  ASSERT_TRUE(ca_->revoke("sensor-01", kNow).ok());
  auto reissued = ca_->issue(CertificateKind::device, "sensor-01", {}, kNow + 60);
  ASSERT_TRUE(reissued.ok()) << reissued.error().message;
  EXPECT_TRUE(reissued->still_valid.empty());
}

TEST_F(CaTest, RevocationsMadeThroughAnotherHandleAreSeen) {
  IssuedIdentity device = issue_device("sensor-01");
  auto other = CertificateAuthority::open(dir_);
  ASSERT_TRUE(other.ok()) << other.error().message;
  ASSERT_TRUE(other->revoke("sensor-01", kNow).ok());
  // This handle's index is stale, but revoke reloads it under the lock before deciding.
  auto again = ca_->revoke("sensor-01", kNow + 60);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::conflict);
  EXPECT_EQ(record_of(device.record.serial)->revoked_at, kNow);
}

TEST_F(CaTest, RegenerateCrlIncrementsNumberAndListsAllRevocations) {
  IssuedIdentity a = issue_device("sensor-01");
  IssuedIdentity b = issue_device("sensor-02");
  ASSERT_TRUE(ca_->revoke("sensor-01", kNow).ok());
  ASSERT_TRUE(ca_->revoke("sensor-02", kNow).ok());
  const std::uint64_t last = ca_->index().last_crl_number();
  auto info = ca_->regenerate_crl(kNow + kDay);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->number, last + 1);
  EXPECT_EQ(info->revoked_count, 2u);
  EXPECT_EQ(info->next_update, kNow + kDay + kCrlValidityDays * kDay);
  crypto::Crl crl = read_crl(ca_->paths().crl());
  ASSERT_TRUE(crl != nullptr);
  EXPECT_EQ(static_cast<std::uint64_t>(crl_number(crl.get())), info->number);
  EXPECT_TRUE(crl_lists(crl.get(), a.record.serial));
  EXPECT_TRUE(crl_lists(crl.get(), b.record.serial));
  EXPECT_EQ(crypto::to_unix_seconds(X509_CRL_get0_nextUpdate(crl.get())), info->next_update);
  auto reopened = CertificateAuthority::open(dir_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened->index().last_crl_number(), info->number);
}

TEST_F(CaTest, RegenerateCrlThroughAStaleHandleKeepsEveryRevocation) {
  IssuedIdentity device = issue_device("sensor-01");
  auto other = CertificateAuthority::open(dir_);
  ASSERT_TRUE(other.ok()) << other.error().message;
  ASSERT_TRUE(ca_->revoke("sensor-01", kNow).ok());
  const std::uint64_t published = ca_->index().last_crl_number();
  // `other` was opened before the revocation: it must re-read the index, or it would publish a
  // CRL that forgets the revocation and reuses a CRL number.
  auto info = other->regenerate_crl(kNow + 60);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_GT(info->number, published);
  EXPECT_EQ(info->revoked_count, 1u);
  crypto::Crl crl = read_crl(ca_->paths().crl());
  ASSERT_TRUE(crl != nullptr);
  EXPECT_TRUE(crl_lists(crl.get(), device.record.serial));
}

// ---- list --------------------------------------------------------------------------------------

TEST_F(CaTest, ListReportsStatesAndDaysLeft) {
  IssuedIdentity valid = issue_device("valid-one");
  IssueOptions past;
  past.not_before = kNow - 3 * kDay;
  past.validity_days = 1;  // ended two days before kNow
  IssuedIdentity expired = issue_device("expired-one", past);
  IssueOptions future;
  future.not_before = kNow + 10 * kDay;
  future.validity_days = 30;
  IssuedIdentity pending = issue_device("pending-one", future);
  IssuedIdentity revoked = issue_device("revoked-one");
  ASSERT_TRUE(ca_->revoke("revoked-one", kNow).ok());

  auto statuses = ca_->list(kNow);
  EXPECT_EQ(statuses.size(), ca_->index().certificates().size());
  auto status_of = [&](const IssuedIdentity& identity) -> const CertificateStatus* {
    for (const auto& status : statuses) {
      if (status.record.serial == identity.record.serial) return &status;
    }
    return nullptr;
  };
  const CertificateStatus* s = status_of(valid);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->state, CertificateState::valid);
  EXPECT_EQ(s->days_left, kLeafValidityDays);

  s = status_of(expired);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->state, CertificateState::expired);
  EXPECT_LT(s->days_left, 0);
  EXPECT_EQ(s->days_left, -2);

  s = status_of(pending);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->state, CertificateState::not_yet_valid);
  EXPECT_EQ(s->days_left, 40);

  s = status_of(revoked);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->state, CertificateState::revoked);
  EXPECT_EQ(to_string(CertificateState::revoked), "revoked");
}

TEST_F(CaTest, ListDaysLeftRoundsTowardsMinusInfinity) {
  IssuedIdentity device = issue_device("sensor-01");
  const std::time_t not_after = device.record.not_after;
  auto status_at = [&](std::time_t now) {
    for (const auto& status : ca_->list(now)) {
      if (status.record.serial == device.record.serial) return status;
    }
    throw std::runtime_error("not listed");
  };
  EXPECT_EQ(status_at(not_after - 1).days_left, 0);
  EXPECT_EQ(status_at(not_after - 1).state, CertificateState::valid);
  EXPECT_EQ(status_at(not_after).state, CertificateState::expired);
  EXPECT_EQ(status_at(not_after + 3600).days_left, -1);  // an hour late is -1, not 0
  EXPECT_EQ(status_at(not_after + kDay).days_left, -1);
  EXPECT_EQ(status_at(not_after + kDay + 1).days_left, -2);
}

// ---- verify ------------------------------------------------------------------------------------

TEST_F(CaTest, VerifyAcceptsAValidDeviceCertificateForClientUse) {
  IssuedIdentity device = issue_device("sensor-01");
  crypto::Certificate cert = read_certificate(device.certificate_path);
  ASSERT_TRUE(cert != nullptr);
  for (Purpose purpose : {Purpose::client, Purpose::from_index}) {
    VerificationReport report = ca_->verify(cert.get(), purpose, kNow);
    EXPECT_TRUE(report.valid()) << describe(report);
    EXPECT_EQ(report.purpose, "client");
    EXPECT_EQ(report.common_name, "sensor-01");
    EXPECT_EQ(report.serial, device.record.serial);
    ASSERT_TRUE(report.kind.has_value());
    EXPECT_EQ(*report.kind, CertificateKind::device);
    EXPECT_EQ(report.not_after, device.record.not_after);
  }
}

TEST_F(CaTest, VerifyPemReportsLikeVerify) {
  IssuedIdentity device = issue_device("sensor-01");
  ASSERT_TRUE(ca_->revoke("sensor-01", kNow).ok());
  auto pem = files::read_file(device.certificate_path);
  ASSERT_TRUE(pem.ok()) << pem.error().message;
  crypto::Certificate cert = read_certificate(device.certificate_path);
  ASSERT_TRUE(cert != nullptr);
  auto from_pem = ca_->verify_pem(*pem, device.certificate_path.string(), Purpose::client, kNow);
  ASSERT_TRUE(from_pem.ok()) << from_pem.error().message;
  VerificationReport direct = ca_->verify(cert.get(), Purpose::client, kNow);
  EXPECT_FALSE(from_pem->valid());
  EXPECT_EQ(from_pem->problems, direct.problems);
  EXPECT_EQ(from_pem->serial, device.record.serial);
  EXPECT_EQ(from_pem->purpose, "client");
}

TEST_F(CaTest, VerifyPemRefusesWhatIsNotACertificate) {
  auto verified = ca_->verify_pem("not a certificate", "/tmp/thing.pem", Purpose::client, kNow);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code, Errc::corrupt);
  EXPECT_NE(verified.error().message.find("/tmp/thing.pem"), std::string::npos);
}

TEST_F(CaTest, VerifyRejectsDeviceCertificateForServerUse) {
  IssuedIdentity device = issue_device("sensor-01");
  crypto::Certificate cert = read_certificate(device.certificate_path);
  ASSERT_TRUE(cert != nullptr);
  VerificationReport report = ca_->verify(cert.get(), Purpose::server, kNow);
  EXPECT_FALSE(report.valid());
  EXPECT_EQ(report.purpose, "server");
  EXPECT_TRUE(has_problem(report, openssl_reason(X509_V_ERR_INVALID_PURPOSE))) << describe(report);
}

TEST_F(CaTest, VerifyChecksServerCertificateAsServer) {
  crypto::Certificate server = read_certificate(dir_ / "server" / "server.crt");
  ASSERT_TRUE(server != nullptr);
  VerificationReport as_indexed = ca_->verify(server.get(), Purpose::from_index, kNow);
  EXPECT_TRUE(as_indexed.valid()) << describe(as_indexed);
  EXPECT_EQ(as_indexed.purpose, "server");
  VerificationReport as_client = ca_->verify(server.get(), Purpose::client, kNow);
  EXPECT_FALSE(as_client.valid());
  EXPECT_TRUE(has_problem(as_client, openssl_reason(X509_V_ERR_INVALID_PURPOSE))) << describe(as_client);
}

TEST_F(CaTest, VerifyAcceptsTheCaItself) {
  VerificationReport report = ca_->verify(ca_->certificate(), Purpose::from_index, kNow);
  EXPECT_TRUE(report.valid()) << describe(report);
  EXPECT_EQ(report.purpose, "ca");
  ASSERT_TRUE(report.kind.has_value());
  EXPECT_EQ(*report.kind, CertificateKind::ca);
}

TEST_F(CaTest, VerifyReportsRevokedCertificate) {
  IssuedIdentity device = issue_device("sensor-01");
  ASSERT_TRUE(ca_->revoke("sensor-01", kNow).ok());
  crypto::Certificate cert = read_certificate(device.certificate_path);
  ASSERT_TRUE(cert != nullptr);
  VerificationReport report = ca_->verify(cert.get(), Purpose::client, kNow);
  EXPECT_FALSE(report.valid());
  EXPECT_TRUE(has_problem(report, "certificate revoked")) << describe(report);
  EXPECT_TRUE(has_problem(report, openssl_reason(X509_V_ERR_CERT_REVOKED))) << describe(report);
}

TEST_F(CaTest, VerifyReportsRevocationMissingFromAStaleCrl) {
  IssuedIdentity device = issue_device("sensor-01");
  const std::string stale_crl = read_text(ca_->paths().crl());
  ASSERT_TRUE(ca_->revoke("sensor-01", kNow).ok());
  ASSERT_TRUE(files::write_file_atomic(ca_->paths().crl(), stale_crl, 0644).ok());  // as if crl.pem was not updated
  crypto::Certificate cert = read_certificate(device.certificate_path);
  ASSERT_TRUE(cert != nullptr);
  VerificationReport report = ca_->verify(cert.get(), Purpose::client, kNow);
  EXPECT_FALSE(report.valid());
  EXPECT_FALSE(has_problem(report, openssl_reason(X509_V_ERR_CERT_REVOKED))) << describe(report);
  EXPECT_TRUE(has_problem(report, "revoked in the index")) << describe(report);
}

TEST_F(CaTest, VerifyReportsMissingCrl) {
  IssuedIdentity device = issue_device("sensor-01");
  fs::remove(ca_->paths().crl());
  crypto::Certificate cert = read_certificate(device.certificate_path);
  ASSERT_TRUE(cert != nullptr);
  VerificationReport report = ca_->verify(cert.get(), Purpose::client, kNow);
  EXPECT_FALSE(report.valid());
  EXPECT_TRUE(has_problem(report, "no readable CRL")) << describe(report);
}

TEST_F(CaTest, VerifyReportsExpiredCertificate) {
  IssueOptions past;
  past.not_before = kNow - 3 * kDay;
  past.validity_days = 1;
  IssuedIdentity device = issue_device("sensor-01", past);
  crypto::Certificate cert = read_certificate(device.certificate_path);
  ASSERT_TRUE(cert != nullptr);
  VerificationReport report = ca_->verify(cert.get(), Purpose::client, kNow);
  EXPECT_FALSE(report.valid());
  EXPECT_TRUE(has_problem(report, "certificate has expired")) << describe(report);
  EXPECT_TRUE(has_problem(report, openssl_reason(X509_V_ERR_CERT_HAS_EXPIRED))) << describe(report);
  // The same certificate was fine while it was valid.
  VerificationReport earlier = ca_->verify(cert.get(), Purpose::client, kNow - 2 * kDay - kDay / 2);
  EXPECT_FALSE(has_problem(earlier, openssl_reason(X509_V_ERR_CERT_HAS_EXPIRED))) << describe(earlier);
}

TEST_F(CaTest, VerifyReportsNotYetValidCertificate) {
  IssueOptions future;
  future.not_before = kNow + 10 * kDay;
  IssuedIdentity device = issue_device("sensor-01", future);
  crypto::Certificate cert = read_certificate(device.certificate_path);
  ASSERT_TRUE(cert != nullptr);
  VerificationReport report = ca_->verify(cert.get(), Purpose::client, kNow);
  EXPECT_TRUE(has_problem(report, openssl_reason(X509_V_ERR_CERT_NOT_YET_VALID))) << describe(report);
}

TEST_F(CaTest, VerifyCollectsEveryProblem) {
  IssueOptions past;
  past.not_before = kNow - 3 * kDay;
  past.validity_days = 1;
  IssuedIdentity device = issue_device("sensor-01", past);
  ASSERT_TRUE(ca_->revoke("sensor-01", kNow).ok());
  crypto::Certificate cert = read_certificate(device.certificate_path);
  ASSERT_TRUE(cert != nullptr);
  VerificationReport report = ca_->verify(cert.get(), Purpose::server, kNow);
  EXPECT_TRUE(has_problem(report, openssl_reason(X509_V_ERR_CERT_HAS_EXPIRED))) << describe(report);
  EXPECT_TRUE(has_problem(report, openssl_reason(X509_V_ERR_CERT_REVOKED))) << describe(report);
  EXPECT_TRUE(has_problem(report, openssl_reason(X509_V_ERR_INVALID_PURPOSE))) << describe(report);
}

TEST_F(CaTest, VerifyRejectsCertificateFromAnotherCa) {
  TempDir other_tmp;
  auto other = CertificateAuthority::init(other_tmp / "pki", test_init_options(), kNow);
  ASSERT_TRUE(other.ok()) << other.error().message;
  auto foreign = other->issue(CertificateKind::device, "sensor-01", {}, kNow);
  ASSERT_TRUE(foreign.ok()) << foreign.error().message;
  crypto::Certificate cert = read_certificate(foreign->certificate_path);
  ASSERT_TRUE(cert != nullptr);

  VerificationReport report = ca_->verify(cert.get(), Purpose::client, kNow);
  EXPECT_FALSE(report.valid());
  EXPECT_FALSE(report.kind.has_value());
  EXPECT_TRUE(has_problem(report, "not in this CA's index")) << describe(report);
  EXPECT_TRUE(has_problem(report, openssl_reason(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY))) << describe(report);
  // The other CA accepts it, so the failure is about trust, not the certificate itself.
  EXPECT_TRUE(other->verify(cert.get(), Purpose::client, kNow).valid());
}

TEST_F(CaTest, VerifyReportsExpiredCrl) {
  IssuedIdentity device = issue_device("sensor-01");
  crypto::Certificate cert = read_certificate(device.certificate_path);
  ASSERT_TRUE(cert != nullptr);
  const std::time_t past_next_update = kNow + (kCrlValidityDays + 1) * kDay;
  VerificationReport report = ca_->verify(cert.get(), Purpose::client, past_next_update);
  EXPECT_FALSE(report.valid());
  EXPECT_TRUE(has_problem(report, openssl_reason(X509_V_ERR_CRL_HAS_EXPIRED))) << describe(report);
  EXPECT_FALSE(has_problem(report, openssl_reason(X509_V_ERR_CERT_HAS_EXPIRED))) << describe(report);

  // A fresh CRL fixes it.
  ASSERT_TRUE(ca_->regenerate_crl(past_next_update).ok());
  VerificationReport refreshed = ca_->verify(cert.get(), Purpose::client, past_next_update);
  EXPECT_TRUE(refreshed.valid()) << describe(refreshed);
}

}  // namespace
}  // namespace kelvin::pki
