#include "kelvin/crypto/x509.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <set>
#include <string>
#include <vector>

#include "crypto_test_support.hpp"
#include "kelvin/crypto/keys.hpp"

namespace kelvin::crypto {
namespace {

constexpr std::time_t kNow = 1'800'000'000;

using test_support::fresh_key;

// A self-signed certificate built directly with OpenSSL (independent of kelvin's PKI code).
Certificate self_signed(EVP_PKEY* key, const char* common_name, long serial) {
  Certificate cert(X509_new());
  if (!cert) return nullptr;
  X509_NAME* name = X509_get_subject_name(cert.get());
  bool ok = X509_set_version(cert.get(), X509_VERSION_3) == 1 &&
            ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial) == 1 &&
            ASN1_TIME_set(X509_getm_notBefore(cert.get()), kNow) != nullptr &&
            ASN1_TIME_set(X509_getm_notAfter(cert.get()), kNow + 86400) != nullptr &&
            (common_name == nullptr ||
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(common_name),
                                        -1, -1, 0) == 1) &&
            X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("kelvin tests"),
                                       -1, -1, 0) == 1 &&
            X509_set_issuer_name(cert.get(), name) == 1 && X509_set_pubkey(cert.get(), key) == 1 &&
            X509_sign(cert.get(), key, EVP_sha256()) > 0;
  if (!ok) {
    ADD_FAILURE() << "cannot build test certificate: " << drain_openssl_errors();
    return nullptr;
  }
  return cert;
}

std::string der_of(X509* cert) {
  unsigned char* der = nullptr;
  int length = i2d_X509(cert, &der);
  if (length <= 0) return {};
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  return out;
}

// How `openssl x509 -serial` prints a serial (i2a_ASN1_INTEGER): the reference for serial_to_hex.
std::string openssl_serial_text(const ASN1_INTEGER* serial) {
  Bio bio(BIO_new(BIO_s_mem()));
  i2a_ASN1_INTEGER(bio.get(), serial);
  return bio_to_string(bio.get());
}

BigNum to_bn(const ASN1_INTEGER* serial) {
  return BigNum(ASN1_INTEGER_to_BN(serial, nullptr));
}

// ---- certificates ------------------------------------------------------------------------------

TEST(CertificatePem, RoundTrips) {
  PKey key = fresh_key();
  ASSERT_TRUE(key != nullptr);
  Certificate cert = self_signed(key.get(), "sensor-01", 4242);
  ASSERT_TRUE(cert != nullptr);
  auto pem = certificate_to_pem(cert.get());
  ASSERT_TRUE(pem.ok()) << pem.error().message;
  EXPECT_EQ(pem->rfind("-----BEGIN CERTIFICATE-----", 0), 0u) << *pem;
  auto parsed = certificate_from_pem(*pem, "cert.pem");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(der_of(parsed->get()), der_of(cert.get()));
  EXPECT_EQ(X509_cmp(parsed->get(), cert.get()), 0);
}

TEST(CertificatePem, GarbageIsCorrupt) {
  for (const std::string& garbage : {std::string("hello"), std::string(),
                                     std::string("-----BEGIN CERTIFICATE-----\nZZZZ\n-----END CERTIFICATE-----\n")}) {
    auto parsed = certificate_from_pem(garbage, "/pki/ca.crt");
    ASSERT_FALSE(parsed.ok()) << garbage;
    EXPECT_EQ(parsed.error().code, Errc::corrupt);
    EXPECT_NE(parsed.error().message.find("/pki/ca.crt"), std::string::npos) << parsed.error().message;
    EXPECT_EQ(ERR_peek_error(), 0u) << "OpenSSL error queue left non-empty";
  }
}

TEST(CertificatePem, PrivateKeyPemIsNotACertificate) {
  PKey key = fresh_key();
  ASSERT_TRUE(key != nullptr);
  auto key_pem = private_key_to_pem(key.get(), std::nullopt);
  ASSERT_TRUE(key_pem.ok());
  auto parsed = certificate_from_pem(*key_pem, "key.pem");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, Errc::corrupt);
}

TEST(SubjectCommonName, ReadsCnOrEmpty) {
  PKey key = fresh_key();
  ASSERT_TRUE(key != nullptr);
  Certificate with_cn = self_signed(key.get(), "svc-gateway", 1);
  Certificate utf8_cn = self_signed(key.get(), "Caf\xc3\xa9 CA", 2);
  Certificate without_cn = self_signed(key.get(), nullptr, 3);
  ASSERT_TRUE(with_cn != nullptr && utf8_cn != nullptr && without_cn != nullptr);
  EXPECT_EQ(subject_common_name(with_cn.get()), "svc-gateway");
  EXPECT_EQ(subject_common_name(utf8_cn.get()), "Caf\xc3\xa9 CA");
  EXPECT_EQ(subject_common_name(without_cn.get()), "");
}

TEST(Sha256Fingerprint, IsColonSeparatedUppercaseDigestOfDer) {
  PKey key = fresh_key();
  ASSERT_TRUE(key != nullptr);
  Certificate a = self_signed(key.get(), "a", 1);
  Certificate b = self_signed(key.get(), "b", 2);
  ASSERT_TRUE(a != nullptr && b != nullptr);

  // Reference: SHA-256 over the DER encoding, computed here with EVP_Digest.
  std::string der = der_of(a.get());
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  ASSERT_EQ(EVP_Digest(der.data(), der.size(), digest, &length, EVP_sha256(), nullptr), 1);
  ASSERT_EQ(length, 32u);
  std::string expected;
  for (unsigned int i = 0; i < length; ++i) {
    char byte[3];
    std::snprintf(byte, sizeof byte, "%02X", digest[i]);
    if (i > 0) expected += ':';
    expected += byte;
  }
  EXPECT_EQ(sha256_fingerprint(a.get()), expected);
  EXPECT_EQ(sha256_fingerprint(a.get()).size(), 32u * 3 - 1);
  EXPECT_NE(sha256_fingerprint(a.get()), sha256_fingerprint(b.get()));
}

// ---- CRLs --------------------------------------------------------------------------------------

TEST(CrlPem, RoundTrips) {
  PKey key = fresh_key();
  ASSERT_TRUE(key != nullptr);
  Certificate issuer = self_signed(key.get(), "test CA", 1);
  ASSERT_TRUE(issuer != nullptr);
  Crl crl(X509_CRL_new());
  Asn1Time last(ASN1_TIME_set(nullptr, kNow));
  Asn1Time next(ASN1_TIME_set(nullptr, kNow + 86400));
  X509Revoked entry(X509_REVOKED_new());
  Asn1Integer revoked_serial(ASN1_INTEGER_new());
  ASSERT_TRUE(crl && last && next && entry && revoked_serial);
  ASSERT_EQ(ASN1_INTEGER_set(revoked_serial.get(), 777), 1);
  ASSERT_EQ(X509_REVOKED_set_serialNumber(entry.get(), revoked_serial.get()), 1);
  ASSERT_EQ(X509_REVOKED_set_revocationDate(entry.get(), last.get()), 1);
  ASSERT_EQ(X509_CRL_add0_revoked(crl.get(), entry.release()), 1);
  ASSERT_EQ(X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2), 1);
  ASSERT_EQ(X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer.get())), 1);
  ASSERT_EQ(X509_CRL_set1_lastUpdate(crl.get(), last.get()), 1);
  ASSERT_EQ(X509_CRL_set1_nextUpdate(crl.get(), next.get()), 1);
  ASSERT_GT(X509_CRL_sign(crl.get(), key.get(), EVP_sha256()), 0);

  auto pem = crl_to_pem(crl.get());
  ASSERT_TRUE(pem.ok()) << pem.error().message;
  EXPECT_NE(pem->find("-----BEGIN X509 CRL-----"), std::string::npos);
  auto parsed = crl_from_pem(*pem, "crl.pem");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(X509_CRL_verify(parsed->get(), key.get()), 1);
  X509_REVOKED* found = nullptr;
  EXPECT_EQ(X509_CRL_get0_by_serial(parsed->get(), &found, revoked_serial.get()), 1);
  EXPECT_EQ(to_unix_seconds(X509_CRL_get0_nextUpdate(parsed->get())), kNow + 86400);
}

TEST(CrlPem, GarbageIsCorrupt) {
  auto parsed = crl_from_pem("-----BEGIN X509 CRL-----\nnope\n-----END X509 CRL-----\n", "/pki/crl.pem");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, Errc::corrupt);
  EXPECT_NE(parsed.error().message.find("/pki/crl.pem"), std::string::npos);
  EXPECT_EQ(ERR_peek_error(), 0u);
}

// ---- serials -----------------------------------------------------------------------------------

TEST(RandomSerial, IsPositiveAtMost128BitsAndUsesTheFullRange) {
  std::set<std::string> seen;
  int widest = 0;
  for (int i = 0; i < 64; ++i) {
    auto serial = random_serial();
    ASSERT_TRUE(serial.ok()) << serial.error().message;
    BigNum bn = to_bn(serial->get());
    ASSERT_TRUE(bn != nullptr);
    EXPECT_FALSE(BN_is_negative(bn.get()));
    EXPECT_FALSE(BN_is_zero(bn.get()));
    EXPECT_LE(BN_num_bits(bn.get()), 128);
    widest = std::max(widest, BN_num_bits(bn.get()));
    seen.insert(serial_to_hex(serial->get()));
  }
  EXPECT_EQ(seen.size(), 64u) << "random serials repeated";
  // Each draw has the top bit set with probability 1/2: all 64 missing it is a 2^-64 event.
  EXPECT_EQ(widest, 128);
}

TEST(RandomSerial, HonoursRequestedWidth) {
  int widest = 0;
  for (int i = 0; i < 32; ++i) {
    auto serial = random_serial(64);
    ASSERT_TRUE(serial.ok()) << serial.error().message;
    BigNum bn = to_bn(serial->get());
    EXPECT_LE(BN_num_bits(bn.get()), 64);
    EXPECT_FALSE(BN_is_zero(bn.get()));
    widest = std::max(widest, BN_num_bits(bn.get()));
  }
  EXPECT_GT(widest, 56);  // 2^-256 chance of failing by bad luck
}

TEST(SerialHex, KnownValues) {
  Asn1Integer value(ASN1_INTEGER_new());
  ASSERT_EQ(ASN1_INTEGER_set(value.get(), 255), 1);
  EXPECT_EQ(serial_to_hex(value.get()), "FF");
  ASSERT_EQ(ASN1_INTEGER_set(value.get(), 0x1234ABCD), 1);
  EXPECT_EQ(serial_to_hex(value.get()), "1234ABCD");

  auto parsed = serial_from_hex("1F");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(ASN1_INTEGER_get(parsed->get()), 31);
  auto lower = serial_from_hex("abcdef");
  ASSERT_TRUE(lower.ok()) << lower.error().message;
  EXPECT_EQ(ASN1_INTEGER_get(lower->get()), 0xABCDEF);
}

TEST(SerialHex, MatchesOpensslPrintingAndRoundTrips) {
  for (int i = 0; i < 32; ++i) {
    auto serial = random_serial();
    ASSERT_TRUE(serial.ok());
    std::string hex = serial_to_hex(serial->get());
    EXPECT_EQ(hex, openssl_serial_text(serial->get()));
    EXPECT_TRUE(std::none_of(hex.begin(), hex.end(), [](unsigned char c) { return std::islower(c) != 0; })) << hex;

    auto back = serial_from_hex(hex);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(ASN1_INTEGER_cmp(back->get(), serial->get()), 0) << hex;
    EXPECT_EQ(serial_to_hex(back->get()), hex);

    std::string lowered = hex;
    std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto from_lower = serial_from_hex(lowered);
    ASSERT_TRUE(from_lower.ok());
    EXPECT_EQ(ASN1_INTEGER_cmp(from_lower->get(), serial->get()), 0) << lowered;
  }
}

TEST(SerialHex, RejectsNonHex) {
  for (const std::string& bad : std::vector<std::string>{"", "xyz", "12G4", " 12", "12 ", "0x12", "1F\n", "AB:CD"}) {
    auto parsed = serial_from_hex(bad);
    ASSERT_FALSE(parsed.ok()) << "'" << bad << "'";
    EXPECT_EQ(parsed.error().code, Errc::invalid_argument) << bad;
  }
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(SerialHex, RejectsZeroAndNegativeSerials) {
  for (const std::string& bad : std::vector<std::string>{"-1", "-0A", "0", "00"}) {
    auto parsed = serial_from_hex(bad);
    ASSERT_FALSE(parsed.ok()) << "'" << bad << "'";
    EXPECT_EQ(parsed.error().code, Errc::invalid_argument) << bad;
  }
}

// ---- time --------------------------------------------------------------------------------------

TEST(ToUnixSeconds, ConvertsUtcTimeAndGeneralizedTime) {
  Asn1Time utc(ASN1_TIME_new());
  ASSERT_EQ(ASN1_TIME_set_string(utc.get(), "231114221320Z"), 1);  // UTCTime
  EXPECT_EQ(to_unix_seconds(utc.get()), 1'700'000'000);

  Asn1Time generalized(ASN1_TIME_new());
  ASSERT_EQ(ASN1_TIME_set_string(generalized.get(), "20231114221320Z"), 1);  // GeneralizedTime
  EXPECT_EQ(to_unix_seconds(generalized.get()), 1'700'000'000);

  Asn1Time epoch(ASN1_TIME_new());
  ASSERT_EQ(ASN1_TIME_set_string(epoch.get(), "700101000000Z"), 1);
  EXPECT_EQ(to_unix_seconds(epoch.get()), 0);
}

TEST(ToUnixSeconds, RoundTripsAsn1TimeSetIncludingAfter2049) {
  for (std::time_t t : {std::time_t{kNow}, std::time_t{2'600'000'000} /* 2052: GeneralizedTime */}) {
    Asn1Time time(ASN1_TIME_set(nullptr, t));
    ASSERT_TRUE(time != nullptr);
    EXPECT_EQ(to_unix_seconds(time.get()), t);
  }
}

TEST(ToUnixSeconds, IsIndependentOfLocalTimeZone) {
  const char* old = std::getenv("TZ");
  const std::string saved = old != nullptr ? old : "";
  setenv("TZ", "KLV-5", 1);  // a POSIX rule five hours east of UTC: needs no tzdata
  tzset();
  Asn1Time time(ASN1_TIME_new());
  std::time_t converted = -1;
  if (ASN1_TIME_set_string(time.get(), "20231114221320Z") == 1) converted = to_unix_seconds(time.get());
  if (old != nullptr) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
  EXPECT_EQ(converted, 1'700'000'000);
}

TEST(ToUnixSeconds, NullIsMinusOne) {
  EXPECT_EQ(to_unix_seconds(nullptr), -1);
}

}  // namespace
}  // namespace kelvin::crypto
