#include "kelvin/crypto/random.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <climits>
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

}  // namespace kelvin::crypto
