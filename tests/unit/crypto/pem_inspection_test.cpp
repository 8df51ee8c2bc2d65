#include "kelvin/crypto/pem_inspection.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <string>

#include "crypto_test_support.hpp"
#include "kelvin/crypto/x509.hpp"

namespace kelvin::crypto {
namespace {

constexpr std::time_t kNow = 1'800'000'000;

using test_support::fresh_key;

// A self-signed certificate with CN `common_name` and, unless empty, the subject alternative
// names `alt_names` (OpenSSL's "DNS:a,IP:b" syntax), built with OpenSSL directly.
std::string certificate_pem(const char* common_name, const char* alt_names) {
  PKey key = fresh_key();
  Certificate cert(X509_new());
  if (!key || !cert) return {};
  X509_NAME* name = X509_get_subject_name(cert.get());
  bool ok = X509_set_version(cert.get(), X509_VERSION_3) == 1 &&
            ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1) == 1 &&
            ASN1_TIME_set(X509_getm_notBefore(cert.get()), kNow) != nullptr &&
            ASN1_TIME_set(X509_getm_notAfter(cert.get()), kNow + 86400) != nullptr &&
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(common_name),
                                       -1, -1, 0) == 1 &&
            X509_set_issuer_name(cert.get(), name) == 1 && X509_set_pubkey(cert.get(), key.get()) == 1;
  if (ok && *alt_names != '\0') {
    X509V3_CTX context;
    X509V3_set_ctx(&context, cert.get(), cert.get(), nullptr, nullptr, 0);
    X509Extension extension(X509V3_EXT_conf_nid(nullptr, &context, NID_subject_alt_name, alt_names));
    ok = extension && X509_add_ext(cert.get(), extension.get(), -1) == 1;
  }
  ok = ok && X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
  if (!ok) {
    ADD_FAILURE() << "cannot build test certificate: " << drain_openssl_errors();
    return {};
  }
  auto pem = certificate_to_pem(cert.get());
  return pem.ok() ? *pem : std::string();
}

TEST(CheckCertificateHost, ListsDnsAndIpNamesInOrder) {
  auto checked =
      check_certificate_host(certificate_pem("gw", "DNS:gw.example.org,IP:192.0.2.7,DNS:*.home.lan,IP:2001:db8::1"),
                             "server.crt", "gw.example.org");
  ASSERT_TRUE(checked.ok()) << checked.error().message;
  EXPECT_TRUE(checked->names_host);
  EXPECT_EQ(checked->alt_names, (std::vector<std::string>{"DNS:gw.example.org", "IP:192.0.2.7", "DNS:*.home.lan",
                                                          "IP:2001:db8:0:0:0:0:0:1"}));
}

TEST(CheckCertificateHost, MatchesLikeATlsClient) {
  const std::string pem = certificate_pem("gw", "DNS:gw.example.org,IP:192.0.2.7,DNS:*.home.lan,IP:2001:db8::1");
  auto names = [&](const std::string& host) {
    auto checked = check_certificate_host(pem, "server.crt", host);
    EXPECT_TRUE(checked.ok());
    return checked.ok() && checked->names_host;
  };
  EXPECT_TRUE(names("192.0.2.7"));
  EXPECT_TRUE(names("2001:db8::1"));
  EXPECT_TRUE(names("2001:DB8:0::1"));  // the same address written differently
  EXPECT_TRUE(names("GW.example.org"));
  EXPECT_TRUE(names("pi.home.lan"));     // wildcard in the leftmost label
  EXPECT_FALSE(names("a.pi.home.lan"));  // but only there
  EXPECT_FALSE(names("192.0.2.8"));
  EXPECT_FALSE(names("example.org"));
  EXPECT_FALSE(names("gw"));  // the CN does not count once there are DNS names
  EXPECT_FALSE(names(""));
  EXPECT_EQ(ERR_peek_error(), 0u);  // nothing left on OpenSSL's error queue for the next caller
}

TEST(CheckCertificateHost, WithoutAltNamesFallsBackToTheCommonName) {
  auto checked = check_certificate_host(certificate_pem("gw.example.org", ""), "server.crt", "gw.example.org");
  ASSERT_TRUE(checked.ok()) << checked.error().message;
  EXPECT_TRUE(checked->names_host);
  EXPECT_TRUE(checked->alt_names.empty());
}

TEST(CheckCertificateHost, GarbageIsCorruptAndNamesTheSource) {
  auto checked = check_certificate_host("not a certificate", "/pki/server/server.crt", "localhost");
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.error().code, Errc::corrupt);
  EXPECT_NE(checked.error().message.find("/pki/server/server.crt"), std::string::npos);
}

TEST(CrlNextUpdate, ReadsNextUpdateOrMinusOneWithoutIt) {
  PKey key = fresh_key();
  ASSERT_TRUE(key != nullptr);
  auto crl_pem = [&](bool with_next_update) {
    Crl crl(X509_CRL_new());
    Asn1Time last(ASN1_TIME_set(nullptr, kNow));
    Asn1Time next(ASN1_TIME_set(nullptr, kNow + 7 * 86400));
    EXPECT_TRUE(crl && last && next);
    EXPECT_EQ(X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2), 1);
    EXPECT_EQ(X509_CRL_set1_lastUpdate(crl.get(), last.get()), 1);
    if (with_next_update) {
      EXPECT_EQ(X509_CRL_set1_nextUpdate(crl.get(), next.get()), 1);
    }
    EXPECT_GT(X509_CRL_sign(crl.get(), key.get(), EVP_sha256()), 0);
    auto pem = crl_to_pem(crl.get());
    EXPECT_TRUE(pem.ok());
    return pem.ok() ? *pem : std::string();
  };
  auto next_update = crl_next_update(crl_pem(true), "crl.pem");
  ASSERT_TRUE(next_update.ok()) << next_update.error().message;
  EXPECT_EQ(*next_update, kNow + 7 * 86400);
  auto none = crl_next_update(crl_pem(false), "crl.pem");
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_EQ(*none, -1);
}

TEST(CrlNextUpdate, GarbageIsCorruptAndNamesTheSource) {
  auto next_update = crl_next_update("-----BEGIN X509 CRL-----\nnope\n-----END X509 CRL-----\n", "/pki/crl.pem");
  ASSERT_FALSE(next_update.ok());
  EXPECT_EQ(next_update.error().code, Errc::corrupt);
  EXPECT_NE(next_update.error().message.find("/pki/crl.pem"), std::string::npos);
}

}  // namespace
}  // namespace kelvin::crypto
