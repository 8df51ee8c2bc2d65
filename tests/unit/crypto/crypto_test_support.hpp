#pragma once
// Shared by the crypto unit tests.

#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <ctime>

#include "kelvin/crypto/keys.hpp"
#include "kelvin/crypto/openssl.hpp"

namespace kelvin::crypto::test_support {

inline PKey fresh_key() {
  auto key = generate_p256_key();
  if (!key.ok()) {
    ADD_FAILURE() << key.error().message;
    return nullptr;
  }
  return std::move(key).value();
}

// A self-signed certificate for CN=localhost, built with OpenSSL directly.
inline Certificate self_signed(EVP_PKEY* key) {
  Certificate cert(X509_new());
  const std::time_t now = std::time(nullptr);
  X509_NAME* name = X509_get_subject_name(cert.get());
  const bool ok = X509_set_version(cert.get(), X509_VERSION_3) == 1 &&
                  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1) == 1 &&
                  ASN1_TIME_set(X509_getm_notBefore(cert.get()), now - 3600) != nullptr &&
                  ASN1_TIME_set(X509_getm_notAfter(cert.get()), now + 86400) != nullptr &&
                  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0) == 1 &&
                  X509_set_issuer_name(cert.get(), name) == 1 && X509_set_pubkey(cert.get(), key) == 1 &&
                  X509_sign(cert.get(), key, EVP_sha256()) > 0;
  EXPECT_TRUE(ok) << drain_openssl_errors();
  return cert;
}

}  // namespace kelvin::crypto::test_support
