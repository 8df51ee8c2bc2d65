// kTls12Ciphers as OpenSSL itself reads it: every name known (OpenSSL skips unknown ones without a
// word, so a typo would quietly drop a suite) and every suite ECDHE with an AEAD cipher.

#include "kelvin/crypto/tls_policy.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace kelvin::crypto {
namespace {

// The TLS 1.2 suites an SSL_CTX configured with a cipher list offers (the context owns them).
struct Tls12Suites {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx{SSL_CTX_new(TLS_method()), &SSL_CTX_free};
  std::vector<const SSL_CIPHER*> suites;
};

Tls12Suites tls12_suites(const char* cipher_list) {
  Tls12Suites out;
  EXPECT_NE(out.ctx, nullptr);
  if (!out.ctx) return out;
  EXPECT_EQ(SSL_CTX_set_cipher_list(out.ctx.get(), cipher_list), 1) << cipher_list;
  STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(out.ctx.get());
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const SSL_CIPHER* cipher = sk_SSL_CIPHER_value(ciphers, i);
    // The context also lists the TLS 1.3 suites (defined by TLS 1.3), which a cipher list does not
    // govern.
    if (std::string_view(SSL_CIPHER_get_version(cipher)) != "TLSv1.3") out.suites.push_back(cipher);
  }
  return out;
}

TEST(Tls12Ciphers, EveryNameIsKnownToOpenssl) {
  std::set<std::string> named;
  std::istringstream list(kTls12Ciphers);
  for (std::string name; std::getline(list, name, ':');) named.insert(name);
  EXPECT_EQ(named.size(), 6u);
  std::set<std::string> selected;
  for (const SSL_CIPHER* cipher : tls12_suites(kTls12Ciphers).suites) selected.insert(SSL_CIPHER_get_name(cipher));
  EXPECT_EQ(selected, named);
}

TEST(Tls12Ciphers, AreOnlyEcdheWithAesGcmOrChaCha20Poly1305) {
  const Tls12Suites selected = tls12_suites(kTls12Ciphers);
  EXPECT_FALSE(selected.suites.empty());
  for (const SSL_CIPHER* cipher : selected.suites) {
    const std::string name = SSL_CIPHER_get_name(cipher);
    EXPECT_EQ(SSL_CIPHER_get_kx_nid(cipher), NID_kx_ecdhe) << name;
    EXPECT_EQ(SSL_CIPHER_is_aead(cipher), 1) << name;
    const int nid = SSL_CIPHER_get_cipher_nid(cipher);
    EXPECT_TRUE(nid == NID_aes_128_gcm || nid == NID_aes_256_gcm || nid == NID_chacha20_poly1305) << name;
  }
}

}  // namespace
}  // namespace kelvin::crypto
