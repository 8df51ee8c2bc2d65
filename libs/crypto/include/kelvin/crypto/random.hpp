#pragma once
// Cryptographically secure random bytes from OpenSSL's DRBG, for code outside libs/crypto that may
// not include OpenSSL headers (docs/architecture.md, "Dependency rules"). Free of OpenSSL includes.

#include <cstddef>
#include <span>
#include <string>

#include "kelvin/core/result.hpp"

namespace kelvin::crypto {

// Fills `out` with random bytes. Errc::crypto when the generator cannot deliver (it is not
// seeded); `out` is then unspecified.
Result<void> random_bytes(std::span<unsigned char> out);

// `byte_count` random bytes as 2 * byte_count lowercase hex digits.
Result<std::string> random_hex(std::size_t byte_count);

// `byte_count` random bytes in unpadded base64url (RFC 4648 §5): safe in cookies, headers and URLs.
Result<std::string> random_token(std::size_t byte_count);

}  // namespace kelvin::crypto
