#pragma once
// Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP) as authenticator apps compute them:
// HMAC-SHA1, 30 s steps from the Unix epoch, 6 digits, and base32 secrets (RFC 4648, unpadded) in an
// otpauth:// URI (Google Authenticator's key URI format, which every app reads).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/core/result.hpp"

namespace kelvin::accounts {

inline constexpr std::int64_t kTotpStepMs = 30'000;
inline constexpr int kTotpDigits = 6;

std::string base32_encode(std::span<const std::uint8_t> bytes);
// Case-insensitive, ignores spaces and '=' padding (people copy secrets by hand). nullopt for any
// other character outside the alphabet.
std::optional<std::vector<std::uint8_t>> base32_decode(std::string_view text);

// A new random secret of 20 bytes (160 bits, RFC 4226's recommendation), base32-encoded.
Result<std::string> new_totp_secret();

// The time step of `unix_ms`.
std::int64_t totp_step(std::int64_t unix_ms);
// The code for `step` under the decoded secret, zero-padded to kTotpDigits.
std::string totp_code(std::span<const std::uint8_t> secret, std::int64_t step);

// The step among {step(now) - 1, step(now), step(now) + 1} (one step of clock drift either way)
// whose code equals `code`, or nullopt. `code` must be exactly kTotpDigits digits (spaces allowed
// and ignored). The caller must still refuse a step already used (AccountDb::claim_totp_step).
std::optional<std::int64_t> match_totp(std::string_view base32_secret, std::string_view code, std::int64_t now_ms);

// otpauth://totp/<issuer>:<account>?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30
std::string totp_uri(std::string_view issuer, std::string_view account, std::string_view base32_secret);

}  // namespace kelvin::accounts
