#include "kelvin/crypto/ed25519.hpp"

#include <openssl/pem.h>

#include "kelvin/crypto/digest.hpp"
#include "kelvin/crypto/keys.hpp"
#include "kelvin/crypto/openssl.hpp"

namespace kelvin::crypto {
namespace {

using MdContext = OpenSslPtr<EVP_MD_CTX, EVP_MD_CTX_free>;

Result<std::string> raw_public_key(EVP_PKEY* key) {
  std::string raw(Ed25519PublicKey::kBytes, '\0');
  std::size_t length = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()), &length) != 1 ||
      length != raw.size()) {
    return openssl_error("cannot read the Ed25519 public key");
  }
  return raw;
}

PKey public_pkey(const std::string& raw) {
  return PKey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw.data()),
                                          raw.size()));
}

}  // namespace

struct Ed25519PrivateKey::Owned {
  PKey key;
};

Result<Ed25519PublicKey> Ed25519PublicKey::from_raw(std::string_view raw) {
  if (raw.size() != kBytes) {
    return make_error(Errc::invalid_argument, "an Ed25519 public key is 32 bytes, not " + std::to_string(raw.size()));
  }
  return Ed25519PublicKey(std::string(raw));
}

Result<Ed25519PublicKey> Ed25519PublicKey::from_pem(std::string_view pem, std::string_view source) {
  Bio bio = memory_bio(pem);
  PKey key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    drain_openssl_errors();
    return make_error(Errc::invalid_argument, std::string(source) + " is not a PEM public key");
  }
  if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) {
    return make_error(Errc::invalid_argument, std::string(source) + " holds a " + EVP_PKEY_get0_type_name(key.get()) +
                                                  " key, not an Ed25519 release key");
  }
  auto raw = raw_public_key(key.get());
  if (!raw) return std::move(raw).error();
  return Ed25519PublicKey(std::move(*raw));
}

Result<std::string> Ed25519PublicKey::to_pem() const {
  PKey key = public_pkey(raw_);
  if (!key) return openssl_error("cannot load the Ed25519 public key");
  return public_key_to_pem(key.get());
}

std::string Ed25519PublicKey::key_id() const {
  return sha256_hex(raw_).substr(0, 16);
}

bool Ed25519PublicKey::verify(std::string_view message, std::string_view signature) const {
  if (signature.size() != kSignatureBytes) return false;
  PKey key = public_pkey(raw_);
  MdContext context(EVP_MD_CTX_new());
  const bool valid =
      key && context && EVP_DigestVerifyInit(context.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
      EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                       reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  drain_openssl_errors();  // a failed verification leaves reasons nobody asked for
  return valid;
}

Ed25519PrivateKey::Ed25519PrivateKey(std::unique_ptr<Owned> owned, Ed25519PublicKey public_key)
    : owned_(std::move(owned)), public_key_(std::move(public_key)) {}
Ed25519PrivateKey::Ed25519PrivateKey(Ed25519PrivateKey&&) noexcept = default;
Ed25519PrivateKey& Ed25519PrivateKey::operator=(Ed25519PrivateKey&&) noexcept = default;
Ed25519PrivateKey::~Ed25519PrivateKey() = default;

Result<Ed25519PrivateKey> Ed25519PrivateKey::generate() {
  PKey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!key) return openssl_error("cannot generate an Ed25519 key");
  auto raw = raw_public_key(key.get());
  if (!raw) return std::move(raw).error();
  return Ed25519PrivateKey(std::make_unique<Owned>(Owned{std::move(key)}), Ed25519PublicKey(std::move(*raw)));
}

Result<Ed25519PrivateKey> Ed25519PrivateKey::from_pem(std::string_view pem,
                                                      const std::optional<std::string>& passphrase,
                                                      std::string_view source) {
  auto key = private_key_from_pem(pem, passphrase, source);
  if (!key) return std::move(key).error();
  if (EVP_PKEY_get_id(key->get()) != EVP_PKEY_ED25519) {
    return make_error(Errc::invalid_argument, std::string(source) + " holds a " + EVP_PKEY_get0_type_name(key->get()) +
                                                  " key, not an Ed25519 release key");
  }
  auto raw = raw_public_key(key->get());
  if (!raw) return std::move(raw).error();
  return Ed25519PrivateKey(std::make_unique<Owned>(Owned{std::move(*key)}), Ed25519PublicKey(std::move(*raw)));
}

Result<std::string> Ed25519PrivateKey::to_pem(const std::optional<std::string>& passphrase) const {
  return private_key_to_pem(owned_->key.get(), passphrase);
}

Result<std::string> Ed25519PrivateKey::sign(std::string_view message) const {
  MdContext context(EVP_MD_CTX_new());
  std::string signature(Ed25519PublicKey::kSignatureBytes, '\0');
  std::size_t length = signature.size();
  // Ed25519 signs the message itself (no digest): one-shot EVP_DigestSign with a NULL digest.
  if (!context || EVP_DigestSignInit(context.get(), nullptr, nullptr, nullptr, owned_->key.get()) != 1 ||
      EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      length != signature.size()) {
    return openssl_error("cannot sign with the Ed25519 key");
  }
  return signature;
}

}  // namespace kelvin::crypto
