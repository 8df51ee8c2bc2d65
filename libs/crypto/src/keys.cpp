#include "kelvin/crypto/keys.hpp"

#include <openssl/pem.h>

#include <cstring>

namespace kelvin::crypto {
namespace {

Result<void> check_passphrase_length(const std::string& passphrase) {
  if (passphrase.empty()) return make_error(Errc::bad_credentials, "the passphrase is empty");
  if (passphrase.size() > kMaxPassphraseBytes) {
    return make_error(Errc::bad_credentials, "the passphrase is longer than " + std::to_string(kMaxPassphraseBytes) +
                                                 " bytes; use a shorter one");
  }
  return {};
}

// OpenSSL's pem_password_cb: copies the passphrase given as userdata into its buffer.
int copy_passphrase(char* buffer, int size, int /*rwflag*/, void* userdata) {
  const auto* passphrase = static_cast<const std::string*>(userdata);
  if (passphrase == nullptr || passphrase->size() > static_cast<std::size_t>(size)) return -1;
  std::memcpy(buffer, passphrase->data(), passphrase->size());
  return static_cast<int>(passphrase->size());
}

}  // namespace

Result<PKey> generate_p256_key() {
  PKey key(EVP_EC_gen("P-256"));
  if (!key) return openssl_error("cannot generate a P-256 key");
  return key;
}

Result<std::string> private_key_to_pem(EVP_PKEY* key, const std::optional<std::string>& passphrase) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio) return openssl_error("cannot allocate a memory buffer");
  int written = 0;
  if (passphrase) {
    if (auto length = check_passphrase_length(*passphrase); !length) return std::move(length).error();
    written = PEM_write_bio_PKCS8PrivateKey(bio.get(), key, EVP_aes_256_cbc(), passphrase->data(),
                                            static_cast<int>(passphrase->size()), nullptr, nullptr);
  } else {
    written = PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  }
  if (written != 1) return openssl_error("cannot encode private key");
  return bio_to_string(bio.get());
}

bool is_encrypted_private_key_pem(std::string_view pem) {
  return pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string_view::npos ||
         pem.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos;
}

Result<PKey> private_key_from_pem(std::string_view pem, const std::optional<std::string>& passphrase,
                                  std::string_view source) {
  const bool encrypted = is_encrypted_private_key_pem(pem);
  if (encrypted && !passphrase) {
    return make_error(Errc::bad_credentials, std::string(source) + " is encrypted and no passphrase was given");
  }
  if (encrypted) {
    if (auto length = check_passphrase_length(*passphrase); !length) return std::move(length).error();
  }
  Bio bio = memory_bio(pem);
  // An unencrypted key never consults the callback; a missing passphrase makes it fail cleanly.
  PKey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, copy_passphrase,
                                   const_cast<std::string*>(passphrase ? &*passphrase : nullptr)));
  if (!key) {
    if (encrypted) {
      drain_openssl_errors();
      return make_error(Errc::bad_credentials, "wrong passphrase for " + std::string(source));
    }
    return openssl_error(std::string(source) + " is not a readable PEM private key");
  }
  return key;
}

Result<std::string> public_key_to_pem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) return openssl_error("cannot encode public key");
  return bio_to_string(bio.get());
}

}  // namespace kelvin::crypto
