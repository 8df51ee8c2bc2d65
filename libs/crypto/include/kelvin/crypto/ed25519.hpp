#pragma once
// Ed25519 (RFC 8032) keys and signatures: the release key that signs firmware (docs/ota.md). Kept
// apart from the TLS PKI on purpose: a stolen gateway or CA key cannot sign firmware. Free of
// OpenSSL includes, for kelvinctl, the gateway and the agent.
//
// Files are the standard PEM forms, so `openssl pkey` reads them: the private key as PKCS#8
// (encrypted with a passphrase: PBES2, PBKDF2-HMAC-SHA256 + AES-256-CBC), the public key as
// SubjectPublicKeyInfo.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kelvin/core/result.hpp"

namespace kelvin::crypto {

class Ed25519PublicKey {
 public:
  static constexpr std::size_t kBytes = 32;
  static constexpr std::size_t kSignatureBytes = 64;

  // Errc::invalid_argument when `pem` is not a PEM public key, or holds a key of another type.
  static Result<Ed25519PublicKey> from_pem(std::string_view pem, std::string_view source);
  // Errc::invalid_argument unless `raw` is 32 bytes.
  static Result<Ed25519PublicKey> from_raw(std::string_view raw);

  Result<std::string> to_pem() const;
  // The 32-byte key.
  const std::string& raw() const noexcept { return raw_; }
  // The first 8 bytes of the SHA-256 of the raw key as 16 lowercase hex digits: names the key in
  // envelopes and messages.
  std::string key_id() const;
  // Whether `signature` (64 bytes) is this key's signature of `message`; false for any malformed input.
  bool verify(std::string_view message, std::string_view signature) const;

 private:
  friend class Ed25519PrivateKey;
  explicit Ed25519PublicKey(std::string raw) : raw_(std::move(raw)) {}
  std::string raw_;
};

class Ed25519PrivateKey {
 public:
  static Result<Ed25519PrivateKey> generate();
  // As keys.hpp's private_key_from_pem (Errc::bad_credentials for a missing or wrong passphrase),
  // and Errc::invalid_argument for a key of another type.
  static Result<Ed25519PrivateKey> from_pem(std::string_view pem, const std::optional<std::string>& passphrase,
                                            std::string_view source);

  Ed25519PrivateKey(Ed25519PrivateKey&&) noexcept;
  Ed25519PrivateKey& operator=(Ed25519PrivateKey&&) noexcept;
  ~Ed25519PrivateKey();

  Result<std::string> to_pem(const std::optional<std::string>& passphrase) const;
  // The 64-byte signature of `message` (Ed25519 is deterministic: the same message, the same bytes).
  Result<std::string> sign(std::string_view message) const;
  const Ed25519PublicKey& public_key() const noexcept { return public_key_; }

 private:
  struct Owned;  // the OpenSSL key
  Ed25519PrivateKey(std::unique_ptr<Owned> owned, Ed25519PublicKey public_key);
  std::unique_ptr<Owned> owned_;
  Ed25519PublicKey public_key_;
};

}  // namespace kelvin::crypto
