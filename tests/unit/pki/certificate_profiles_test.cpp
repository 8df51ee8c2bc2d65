#include "kelvin/pki/certificate_profiles.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "kelvin/crypto/keys.hpp"
#include "kelvin/crypto/x509.hpp"

namespace kelvin::pki {
namespace {

constexpr std::time_t kNow = 1'800'000'000;
constexpr std::time_t kDay = 86400;

// ---- subject alternative names -----------------------------------------------------------------

TEST(SubjectAltName, AcceptsDnsAndIpAddresses) {
  for (const char* san : {"DNS:localhost", "DNS:gateway.local", "DNS:a", "DNS:my-host.example.com", "IP:127.0.0.1",
                          "IP:10.0.0.2", "IP:::1", "IP:fe80::1", "IP:2001:db8::42"}) {
    auto r = validate_subject_alt_name(san);
    EXPECT_TRUE(r.ok()) << san << ": " << (r.ok() ? "" : r.error().message);
  }
}

TEST(SubjectAltName, RejectsMalformedOrInjectedValues) {
  for (const char* san : {"localhost",
                          "DNS:",
                          "IP:",
                          "IP:999.1.1.1",
                          "IP:1.2.3",
                          "IP:localhost",
                          "DNS:a,b",
                          "DNS:a,IP:1.2.3.4",
                          "DNS:a b",
                          "DNS:-lead",
                          "DNS:.lead",
                          "DNS:a\nb",
                          "DNS:host/path",
                          "URI:x",
                          "URI:https://example.com",
                          "email:a@b.c",
                          "dns:localhost",
                          "ip:127.0.0.1",
                          "IP:127.0.0.1,DNS:x",
                          ""}) {
    auto r = validate_subject_alt_name(san);
    ASSERT_FALSE(r.ok()) << san;
    EXPECT_EQ(r.error().code, Errc::invalid_argument) << san;
  }
}

TEST(SubjectAltName, RejectsOverlongDnsNameAndLabels) {
  const std::string labels = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + ".";
  EXPECT_TRUE(validate_subject_alt_name("DNS:" + labels + std::string(61, 'd')).ok());   // 253 bytes
  EXPECT_FALSE(validate_subject_alt_name("DNS:" + labels + std::string(62, 'd')).ok());  // 254 bytes
  EXPECT_TRUE(validate_subject_alt_name("DNS:" + std::string(63, 'a')).ok());
  EXPECT_FALSE(validate_subject_alt_name("DNS:" + std::string(64, 'a')).ok());  // label > 63
}

TEST(SubjectAltName, AcceptsWildcardOnlyAsTheWholeLeftmostLabel) {
  EXPECT_TRUE(validate_subject_alt_name("DNS:*.site.lan").ok());
  for (const char* bad : {"DNS:*", "DNS:**", "DNS:*.lan", "DNS:a*b.site.lan", "DNS:gw.*.lan", "DNS:a..b", "DNS:a.-b",
                          "DNS:a-", "DNS:-a", "DNS:a.", "DNS:.a"}) {
    EXPECT_FALSE(validate_subject_alt_name(bad).ok()) << bad;
  }
}

// ---- certificates ------------------------------------------------------------------------------

struct Issuer {
  crypto::PKey key;
  crypto::Certificate certificate;
};

crypto::PKey new_key() {
  auto key = crypto::generate_p256_key();
  if (!key.ok()) throw std::runtime_error(key.error().message);
  return std::move(key).value();
}

crypto::Asn1Integer serial_number(long value) {
  crypto::Asn1Integer serial(ASN1_INTEGER_new());
  ASN1_INTEGER_set(serial.get(), value);
  return serial;
}

Issuer make_ca() {
  Issuer ca{new_key(), nullptr};
  CertificateSpec spec{CertificateKind::ca, "profile test CA", {}, kNow - 3600, kNow + 3650 * kDay};
  auto serial = serial_number(1);
  auto cert = sign_certificate(spec, serial.get(), ca.key.get(), nullptr, ca.key.get());
  if (!cert.ok()) throw std::runtime_error(cert.error().message);
  ca.certificate = std::move(cert).value();
  return ca;
}

bool has_critical_extension(X509* cert, int nid) {
  int at = X509_get_ext_by_NID(cert, nid, -1);
  return at >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, at)) == 1;
}

class SignCertificateTest : public ::testing::Test {
 protected:
  Result<crypto::Certificate> sign_leaf(CertificateSpec spec, long serial = 2) {
    auto number = serial_number(serial);
    return sign_certificate(spec, number.get(), leaf_key_.get(), ca_.certificate.get(), ca_.key.get());
  }
  CertificateSpec leaf_spec(CertificateKind kind, std::string common_name) const {
    return CertificateSpec{kind, std::move(common_name), {}, kNow - 3600, kNow + 30 * kDay};
  }

  Issuer ca_ = make_ca();
  crypto::PKey leaf_key_ = new_key();
};

TEST_F(SignCertificateTest, CaProfile) {
  X509* ca = ca_.certificate.get();
  EXPECT_EQ(X509_get_version(ca), X509_VERSION_3);
  EXPECT_EQ(X509_verify(ca, ca_.key.get()), 1);  // self-signed
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(ca), X509_get_issuer_name(ca)), 0);
  EXPECT_NE(X509_check_ca(ca), 0);
  EXPECT_TRUE(has_critical_extension(ca, NID_basic_constraints));
  EXPECT_NE(X509_get_extension_flags(ca) & EXFLAG_CA, 0u);
  EXPECT_EQ(X509_get_pathlen(ca), 0);
  EXPECT_TRUE(has_critical_extension(ca, NID_key_usage));
  EXPECT_EQ(X509_get_key_usage(ca), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_NE(X509_get0_subject_key_id(ca), nullptr);
  EXPECT_LT(X509_get_ext_by_NID(ca, NID_authority_key_identifier, -1), 0);
  EXPECT_LT(X509_get_ext_by_NID(ca, NID_ext_key_usage, -1), 0);
  EXPECT_EQ(X509_get_signature_nid(ca), NID_ecdsa_with_SHA256);
  EXPECT_EQ(crypto::subject_common_name(ca), "profile test CA");
}

TEST_F(SignCertificateTest, DeviceProfile) {
  auto cert = sign_leaf(leaf_spec(CertificateKind::device, "sensor-01"), 0x42);
  ASSERT_TRUE(cert.ok()) << cert.error().message;
  X509* leaf = cert->get();
  EXPECT_EQ(X509_verify(leaf, ca_.key.get()), 1);
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(leaf), X509_get_subject_name(ca_.certificate.get())), 0);
  EXPECT_EQ(crypto::subject_common_name(leaf), "sensor-01");
  EXPECT_EQ(ASN1_INTEGER_get(X509_get0_serialNumber(leaf)), 0x42);
  EXPECT_EQ(crypto::to_unix_seconds(X509_get0_notBefore(leaf)), kNow - 3600);
  EXPECT_EQ(crypto::to_unix_seconds(X509_get0_notAfter(leaf)), kNow + 30 * kDay);
  EXPECT_EQ(X509_check_ca(leaf), 0);
  EXPECT_TRUE(has_critical_extension(leaf, NID_basic_constraints));
  EXPECT_EQ(X509_get_extension_flags(leaf) & EXFLAG_CA, 0u);  // basicConstraints CA:FALSE itself
  EXPECT_TRUE(has_critical_extension(leaf, NID_key_usage));
  EXPECT_EQ(X509_get_key_usage(leaf), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  ASSERT_NE(X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE, 0u);
  EXPECT_EQ(X509_get_extended_key_usage(leaf), static_cast<uint32_t>(XKU_SSL_CLIENT));
  EXPECT_LT(X509_get_ext_by_NID(leaf, NID_subject_alt_name, -1), 0);
  // authorityKeyIdentifier points at the CA's subjectKeyIdentifier.
  const ASN1_OCTET_STRING* authority = X509_get0_authority_key_id(leaf);
  ASSERT_NE(authority, nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(authority, X509_get0_subject_key_id(ca_.certificate.get())), 0);
  EXPECT_NE(X509_get0_subject_key_id(leaf), nullptr);
  EXPECT_EQ(X509_check_issued(ca_.certificate.get(), leaf), X509_V_OK);
}

TEST_F(SignCertificateTest, ServiceProfileIsClientAuth) {
  auto cert = sign_leaf(leaf_spec(CertificateKind::service, "svc-gateway"));
  ASSERT_TRUE(cert.ok()) << cert.error().message;
  EXPECT_EQ(X509_get_extended_key_usage(cert->get()), static_cast<uint32_t>(XKU_SSL_CLIENT));
  EXPECT_EQ(X509_check_ca(cert->get()), 0);
  EXPECT_EQ(X509_get_extension_flags(cert->get()) & EXFLAG_CA, 0u);
}

TEST_F(SignCertificateTest, ServerProfileHasServerAuthAndSans) {
  auto spec = leaf_spec(CertificateKind::server, "gateway.local");
  spec.subject_alt_names = {"DNS:gateway.local", "DNS:localhost", "IP:10.0.0.2", "IP:::1"};
  auto cert = sign_leaf(spec);
  ASSERT_TRUE(cert.ok()) << cert.error().message;
  X509* server = cert->get();
  EXPECT_EQ(X509_get_extended_key_usage(server), static_cast<uint32_t>(XKU_SSL_SERVER));
  EXPECT_EQ(X509_get_key_usage(server), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(X509_check_ca(server), 0);
  EXPECT_EQ(X509_get_extension_flags(server) & EXFLAG_CA, 0u);
  EXPECT_EQ(X509_check_host(server, "gateway.local", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(server, "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(server, "10.0.0.2", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(server, "::1", 0), 1);
  EXPECT_NE(X509_check_host(server, "other.local", 0, 0, nullptr), 1);
  EXPECT_NE(X509_check_ip_asc(server, "10.0.0.3", 0), 1);
}

TEST_F(SignCertificateTest, RefusesInvalidSpecs) {
  auto device_with_sans = leaf_spec(CertificateKind::device, "sensor-01");
  device_with_sans.subject_alt_names = {"DNS:localhost"};
  auto server_bad_san = leaf_spec(CertificateKind::server, "gw");
  server_bad_san.subject_alt_names = {"DNS:a,IP:1.2.3.4"};
  auto backwards = leaf_spec(CertificateKind::device, "sensor-01");
  backwards.not_after = backwards.not_before;
  struct Case {
    CertificateSpec spec;
    const char* why;
  };
  for (const Case& c :
       {Case{device_with_sans, "SANs on a device"}, Case{server_bad_san, "comma in SAN"},
        Case{backwards, "not_after == not_before"}, Case{leaf_spec(CertificateKind::device, ""), "empty CN"},
        Case{leaf_spec(CertificateKind::device, std::string(65, 'a')), "CN over 64"},
        Case{leaf_spec(CertificateKind::ca, "second CA"), "CA signed by another issuer"}}) {
    SCOPED_TRACE(c.why);
    auto cert = sign_leaf(c.spec);
    ASSERT_FALSE(cert.ok());
    EXPECT_EQ(cert.error().code, Errc::invalid_argument);
  }
  EXPECT_TRUE(sign_leaf(leaf_spec(CertificateKind::device, std::string(64, 'a'))).ok());
}

TEST_F(SignCertificateTest, OnlyTheCaIsSelfSigned) {
  auto spec = leaf_spec(CertificateKind::device, "sensor-01");
  auto serial = serial_number(3);
  auto cert = sign_certificate(spec, serial.get(), leaf_key_.get(), nullptr, leaf_key_.get());
  ASSERT_FALSE(cert.ok());
  EXPECT_EQ(cert.error().code, Errc::invalid_argument);
}

// ---- CRLs --------------------------------------------------------------------------------------

TEST_F(SignCertificateTest, CrlListsRevokedSerialsAndCarriesNumber) {
  std::vector<RevokedEntry> revoked = {{"0A1B", kNow - 100}, {"FF00FF", kNow - 50}};
  auto crl = sign_crl(ca_.certificate.get(), ca_.key.get(), revoked, 9, kNow, kNow + 7 * kDay);
  ASSERT_TRUE(crl.ok()) << crl.error().message;
  X509_CRL* list = crl->get();
  EXPECT_EQ(X509_CRL_get_version(list), X509_CRL_VERSION_2);
  EXPECT_EQ(X509_CRL_verify(list, ca_.key.get()), 1);
  EXPECT_EQ(X509_NAME_cmp(X509_CRL_get_issuer(list), X509_get_subject_name(ca_.certificate.get())), 0);
  EXPECT_EQ(crypto::to_unix_seconds(X509_CRL_get0_lastUpdate(list)), kNow);
  EXPECT_EQ(crypto::to_unix_seconds(X509_CRL_get0_nextUpdate(list)), kNow + 7 * kDay);

  crypto::Asn1Integer number(static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(list, NID_crl_number, nullptr, nullptr)));
  ASSERT_TRUE(number != nullptr);
  EXPECT_EQ(ASN1_INTEGER_get(number.get()), 9);
  EXPECT_GE(X509_CRL_get_ext_by_NID(list, NID_authority_key_identifier, -1), 0);

  ASSERT_EQ(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(list)), 2);
  for (const auto& entry : revoked) {
    auto serial = crypto::serial_from_hex(entry.serial);
    ASSERT_TRUE(serial.ok());
    X509_REVOKED* found = nullptr;
    ASSERT_EQ(X509_CRL_get0_by_serial(list, &found, serial->get()), 1) << entry.serial;
    EXPECT_EQ(crypto::to_unix_seconds(X509_REVOKED_get0_revocationDate(found)), entry.revoked_at);
  }
  auto absent = serial_number(0x0A1C);
  X509_REVOKED* found = nullptr;
  EXPECT_EQ(X509_CRL_get0_by_serial(list, &found, absent.get()), 0);
}

TEST_F(SignCertificateTest, CrlRefusesNonHexSerial) {
  auto crl = sign_crl(ca_.certificate.get(), ca_.key.get(), {{"not-hex", kNow}}, 1, kNow, kNow + kDay);
  ASSERT_FALSE(crl.ok());
  EXPECT_EQ(crl.error().code, Errc::invalid_argument);
}

}  // namespace
}  // namespace kelvin::pki
