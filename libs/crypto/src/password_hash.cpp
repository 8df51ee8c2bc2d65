#include "kelvin/crypto/password_hash.hpp"

#include <sodium.h>

#include <array>

namespace kelvin::crypto {

namespace {

constexpr unsigned long long kOpsLimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
constexpr std::size_t kMemLimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;

bool sodium_ready() {
  // sodium_init is idempotent and thread-safe; 1 means it already ran.
  static const bool ready = sodium_init() >= 0;
  return ready;
}

}  // namespace

Result<std::string> hash_password(std::string_view password) {
  if (password.empty()) return Error{Errc::invalid_argument, "a password must not be empty"};
  if (password.size() > kMaxPasswordBytes) {
    return Error{Errc::invalid_argument,
                 "a password must be at most " + std::to_string(kMaxPasswordBytes) + " bytes long"};
  }
  if (!sodium_ready()) return Error{Errc::crypto, "libsodium cannot be initialised"};
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), kOpsLimit, kMemLimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Error{Errc::crypto, "cannot hash the password: not enough memory for Argon2id (64 MiB)"};
  }
  return std::string(out.data());
}

bool verify_password(std::string_view hash, std::string_view password) {
  if (password.size() > kMaxPasswordBytes || hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  if (!sodium_ready()) return false;
  const std::string terminated(hash);  // libsodium reads a C string
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

}  // namespace kelvin::crypto
