#include "kelvin/crypto/digest.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <climits>
#include <cstddef>
#include <stdexcept>

namespace kelvin::crypto {
namespace {

std::string to_hex(const unsigned char* digest, unsigned int length) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    hex += kDigits[digest[i] >> 4];
    hex += kDigits[digest[i] & 0x0f];
  }
  return hex;
}

// OpenSSL's digests fail only when they cannot allocate; a missing digest must not look like an
// empty one.
[[noreturn]] void digest_failed() {
  throw std::runtime_error("SHA-256 failed (out of memory)");
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) digest_failed();
  return to_hex(digest, length);
}

struct Sha256::Context {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
};

Sha256::Sha256() : context_(std::make_unique<Context>()) {
  if (!context_->md || EVP_DigestInit_ex(context_->md.get(), EVP_sha256(), nullptr) != 1) digest_failed();
}
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;
Sha256::~Sha256() = default;

void Sha256::update(std::string_view data) {
  if (EVP_DigestUpdate(context_->md.get(), data.data(), data.size()) != 1) digest_failed();
}

std::string Sha256::finish_hex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context_->md.get(), digest, &length) != 1 ||
      EVP_DigestInit_ex(context_->md.get(), EVP_sha256(), nullptr) != 1) {
    digest_failed();
  }
  return to_hex(digest, length);
}

std::array<std::uint8_t, 20> hmac_sha1(std::span<const std::uint8_t> key, std::span<const std::uint8_t> message) {
  std::array<std::uint8_t, 20> mac{};
  unsigned int length = 0;
  if (HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), message.data(), message.size(), mac.data(), &length) ==
          nullptr ||
      length != mac.size()) {
    throw std::runtime_error("HMAC-SHA1 failed (out of memory)");
  }
  return mac;
}

std::array<std::uint8_t, 32> hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> message) {
  std::array<std::uint8_t, 32> mac{};
  // HMAC() takes the key's length as an int. A longer key is replaced by its SHA-256, as HMAC
  // itself does with any key longer than the hash's block (RFC 2104, section 2): same MAC.
  std::array<std::uint8_t, 32> hashed_key{};
  if (key.size() > static_cast<std::size_t>(INT_MAX)) {
    if (EVP_Digest(key.data(), key.size(), hashed_key.data(), nullptr, EVP_sha256(), nullptr) != 1) digest_failed();
    key = hashed_key;
  }
  // An empty span may have no data pointer; OpenSSL wants one for the key even when its length is 0.
  static constexpr std::uint8_t kNoKey = 0;
  const std::uint8_t* key_data = key.empty() ? &kNoKey : key.data();
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key_data, static_cast<int>(key.size()), message.data(), message.size(), mac.data(), &length) ==
          nullptr ||
      length != mac.size()) {
    throw std::runtime_error("HMAC-SHA256 failed (out of memory)");
  }
  return mac;
}

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
  const auto mac = hmac_sha256({reinterpret_cast<const std::uint8_t*>(key.data()), key.size()},
                               {reinterpret_cast<const std::uint8_t*>(message.data()), message.size()});
  return to_hex(mac.data(), static_cast<unsigned int>(mac.size()));
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace kelvin::crypto
