// configure_tls_server as OpenSSL reads the configured context back: protocol floor, suites,
// options, client-certificate verification with CRL checking, and refusals of bad files. The
// handshakes themselves are tested against real clients in tests/integration/https_server_test.cpp.

#include "kelvin/crypto/tls_server.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include "crypto_test_support.hpp"
#include "kelvin/crypto/openssl.hpp"
#include "kelvin/crypto/tls_policy.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::crypto {
namespace {

namespace fs = std::filesystem;
using test_support::fresh_key;
using test_support::self_signed;

using Context = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;

Context server_context() {
  return Context(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
}

// An empty CRL issued by `issuer`, valid for a day.
Crl empty_crl(X509* issuer, EVP_PKEY* key) {
  Crl crl(X509_CRL_new());
  const std::time_t now = std::time(nullptr);
  Asn1Time last(ASN1_TIME_set(nullptr, now - 60));
  Asn1Time next(ASN1_TIME_set(nullptr, now + 86400));
  const bool ok = X509_CRL_set_version(crl.get(), 1) == 1 &&
                  X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer)) == 1 &&
                  X509_CRL_set1_lastUpdate(crl.get(), last.get()) == 1 &&
                  X509_CRL_set1_nextUpdate(crl.get(), next.get()) == 1 &&
                  X509_CRL_sign(crl.get(), key, EVP_sha256()) > 0;
  EXPECT_TRUE(ok) << drain_openssl_errors();
  return crl;
}

template <class Write>
void write_pem(const fs::path& file, Write write) {
  std::unique_ptr<FILE, decltype(&std::fclose)> out(std::fopen(file.c_str(), "w"), &std::fclose);
  ASSERT_TRUE(out);
  ASSERT_EQ(write(out.get()), 1) << file;
}

class TlsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = fresh_key();
    cert_ = self_signed(key_.get());
    write_pem(dir_ / "server.crt", [&](FILE* f) { return PEM_write_X509(f, cert_.get()); });
    write_pem(dir_ / "server.key",
              [&](FILE* f) { return PEM_write_PrivateKey(f, key_.get(), nullptr, nullptr, 0, nullptr, nullptr); });
    Crl crl = empty_crl(cert_.get(), key_.get());
    write_pem(dir_ / "crl.pem", [&](FILE* f) { return PEM_write_X509_CRL(f, crl.get()); });
  }

  TlsServerFiles server_only() const { return {dir_ / "server.crt", dir_ / "server.key", {}, {}}; }
  TlsServerFiles with_clients() const {
    return {dir_ / "server.crt", dir_ / "server.key", dir_ / "server.crt", dir_ / "crl.pem"};
  }

  kelvin::testing::TempDir dir_;
  PKey key_;
  Certificate cert_;
};

std::set<std::string> tls12_suite_names(SSL_CTX* ctx) {
  std::set<std::string> names;
  STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx);
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const SSL_CIPHER* cipher = sk_SSL_CIPHER_value(ciphers, i);
    if (std::string_view(SSL_CIPHER_get_version(cipher)) != "TLSv1.3") names.insert(SSL_CIPHER_get_name(cipher));
  }
  return names;
}

TEST_F(TlsServerTest, AppliesKelvinsPolicyWithoutClientCertificates) {
  Context ctx = server_context();
  auto configured = configure_tls_server(ctx.get(), server_only());
  ASSERT_TRUE(configured.ok()) << configured.error().message;
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx.get()), TLS1_2_VERSION);
  std::set<std::string> expected;
  std::istringstream list(kTls12Ciphers);
  for (std::string name; std::getline(list, name, ':');) expected.insert(name);
  EXPECT_EQ(tls12_suite_names(ctx.get()), expected);
  const auto options = SSL_CTX_get_options(ctx.get());
  EXPECT_NE(options & SSL_OP_NO_RENEGOTIATION, 0u);
  EXPECT_NE(options & SSL_OP_NO_COMPRESSION, 0u);
  EXPECT_NE(options & SSL_OP_CIPHER_SERVER_PREFERENCE, 0u);
  EXPECT_EQ(SSL_CTX_get_verify_mode(ctx.get()), SSL_VERIFY_NONE);
}

TEST_F(TlsServerTest, ClientCertificatesAreRequestedVerifiedWithTheCrlButNotRequired) {
  Context ctx = server_context();
  auto configured = configure_tls_server(ctx.get(), with_clients());
  ASSERT_TRUE(configured.ok()) << configured.error().message;
  EXPECT_EQ(SSL_CTX_get_verify_mode(ctx.get()), SSL_VERIFY_PEER) << "requested, not required";
  X509_STORE* store = SSL_CTX_get_cert_store(ctx.get());
  EXPECT_NE(X509_VERIFY_PARAM_get_flags(X509_STORE_get0_param(store)) & X509_V_FLAG_CRL_CHECK, 0u);
  STACK_OF(X509_NAME)* names = SSL_CTX_get_client_CA_list(ctx.get());
  ASSERT_NE(names, nullptr);
  EXPECT_EQ(sk_X509_NAME_num(names), 1);
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx.get()), TLS1_2_VERSION);
}

TEST_F(TlsServerTest, RefusesMissingFilesAMismatchedKeyAndACaWithoutCrl) {
  {
    TlsServerFiles files = server_only();
    files.certificate = dir_ / "missing.crt";
    auto r = configure_tls_server(server_context().get(), files);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::crypto);
  }
  {
    PKey other = fresh_key();
    write_pem(dir_ / "other.key",
              [&](FILE* f) { return PEM_write_PrivateKey(f, other.get(), nullptr, nullptr, 0, nullptr, nullptr); });
    TlsServerFiles files = server_only();
    files.private_key = dir_ / "other.key";
    auto r = configure_tls_server(server_context().get(), files);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::crypto);
  }
  {
    TlsServerFiles files = with_clients();
    files.client_crl.clear();
    auto r = configure_tls_server(server_context().get(), files);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
  }
  {
    TlsServerFiles files = with_clients();
    files.client_crl = dir_ / "missing-crl.pem";
    auto r = configure_tls_server(server_context().get(), files);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::crypto);
  }
  EXPECT_FALSE(configure_tls_server(nullptr, server_only()).ok());
}

TEST(VerifiedPeerCommonName, IsNothingWithoutAConnection) {
  EXPECT_FALSE(verified_peer_common_name(nullptr).has_value());
}

}  // namespace
}  // namespace kelvin::crypto
