#pragma once
// Private keys: generation (ECDSA P-256) and PEM encoding, optionally passphrase-protected.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "kelvin/crypto/openssl.hpp"

namespace kelvin::crypto {

// OpenSSL's PEM passphrase callback buffer is 1024 bytes: a longer passphrase could encrypt a key
// that could then never be decrypted, so both directions refuse it.
inline constexpr std::size_t kMaxPassphraseBytes = 1024;

// A fresh ECDSA key on NIST P-256 (prime256v1).
Result<PKey> generate_p256_key();

// PKCS#8 PEM. With a passphrase, the key is encrypted (PBES2: PBKDF2-HMAC-SHA256 + AES-256-CBC).
Result<std::string> private_key_to_pem(EVP_PKEY* key, const std::optional<std::string>& passphrase);

// True when `pem` holds an encrypted private key (PKCS#8 or legacy Proc-Type header).
bool is_encrypted_private_key_pem(std::string_view pem);

// Parses a PEM private key. `source` names it in errors (usually the file path). An encrypted key
// without a passphrase, or with the wrong one, gives Errc::bad_credentials.
Result<PKey> private_key_from_pem(std::string_view pem, const std::optional<std::string>& passphrase,
                                  std::string_view source);

// The public half as SubjectPublicKeyInfo PEM.
Result<std::string> public_key_to_pem(EVP_PKEY* key);

}  // namespace kelvin::crypto
