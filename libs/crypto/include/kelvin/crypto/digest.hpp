#pragma once
// Digests and MACs for code that may not include OpenSSL headers: session tokens are stored as
// their SHA-256, TOTP codes (RFC 6238) are HMAC-SHA1, signed payloads (webhooks) carry an
// HMAC-SHA256, and secrets are compared in constant time.

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace kelvin::crypto {

// SHA-256 of `data` as 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

// SHA-256 of data that arrives in pieces (a firmware image read or downloaded in chunks).
class Sha256 {
 public:
  Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  ~Sha256();
  void update(std::string_view data);
  // The digest of everything given so far, as 64 lowercase hex digits; the object then starts over.
  std::string finish_hex();

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

// HMAC-SHA1 (RFC 2104) of `message` under `key`: what HOTP/TOTP authenticator apps compute.
std::array<std::uint8_t, 20> hmac_sha1(std::span<const std::uint8_t> key, std::span<const std::uint8_t> message);

// HMAC-SHA256 (RFC 2104, RFC 4231) of `message` under `key`, of any length (empty too): what a
// receiver recomputes to check that a payload came from the holder of a shared secret.
std::array<std::uint8_t, 32> hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> message);

// hmac_sha256 of the bytes of `message` under the bytes of `key`, as 64 lowercase hex digits (the
// form signature headers carry). Compare a received one with constant_time_equal.
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

// Equal contents, in time that depends only on the lengths: for comparing secrets (tokens, codes).
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace kelvin::crypto
