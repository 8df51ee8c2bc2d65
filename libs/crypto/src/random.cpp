#include "kelvin/crypto/random.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <vector>

#include "kelvin/crypto/openssl.hpp"

namespace kelvin::crypto {

Result<void> random_bytes(std::span<unsigned char> out) {
  // RAND_bytes takes an int count: draw in chunks so any span size works.
  while (!out.empty()) {
    const std::size_t chunk = std::min<std::size_t>(out.size(), INT_MAX);
    if (RAND_bytes(out.data(), static_cast<int>(chunk)) != 1) return openssl_error("cannot draw random bytes");
    out = out.subspan(chunk);
  }
  return {};
}

Result<std::string> random_hex(std::size_t byte_count) {
  std::vector<unsigned char> bytes(byte_count);
  if (auto drawn = random_bytes(bytes); !drawn) return std::move(drawn).error();
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * byte_count);
  for (unsigned char byte : bytes) {
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 0x0f];
  }
  return hex;
}

Result<std::string> random_token(std::size_t byte_count) {
  std::vector<unsigned char> bytes(byte_count);
  if (auto drawn = random_bytes(bytes); !drawn) return std::move(drawn).error();
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string token;
  token.reserve((byte_count * 4 + 2) / 3);
  std::uint32_t bits = 0;
  int held = 0;
  for (unsigned char byte : bytes) {
    bits = (bits << 8) | byte;
    held += 8;
    while (held >= 6) {
      held -= 6;
      token += kAlphabet[(bits >> held) & 0x3f];
    }
  }
  if (held > 0) token += kAlphabet[(bits << (6 - held)) & 0x3f];
  return token;
}

}  // namespace kelvin::crypto
