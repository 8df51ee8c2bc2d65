#include "kelvin/accounts/totp.hpp"

#include <array>

#include "kelvin/crypto/digest.hpp"
#include "kelvin/crypto/random.hpp"

namespace kelvin::accounts {

namespace {

constexpr char kBase32Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

std::string percent_encode(std::string_view text) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    const bool unreserved = (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
                            (byte >= '0' && byte <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kDigits[byte >> 4];
      out += kDigits[byte & 0x0f];
    }
  }
  return out;
}

}  // namespace

std::string base32_encode(std::span<const std::uint8_t> bytes) {
  std::string out;
  std::uint32_t bits = 0;
  int held = 0;
  for (std::uint8_t byte : bytes) {
    bits = (bits << 8) | byte;
    held += 8;
    while (held >= 5) {
      held -= 5;
      out += kBase32Alphabet[(bits >> held) & 0x1f];
    }
  }
  if (held > 0) out += kBase32Alphabet[(bits << (5 - held)) & 0x1f];
  return out;
}

std::optional<std::vector<std::uint8_t>> base32_decode(std::string_view text) {
  std::vector<std::uint8_t> out;
  std::uint32_t bits = 0;
  int held = 0;
  for (char c : text) {
    if (c == ' ' || c == '=') continue;
    int value = -1;
    if (c >= 'A' && c <= 'Z') value = c - 'A';
    if (c >= 'a' && c <= 'z') value = c - 'a';
    if (c >= '2' && c <= '7') value = c - '2' + 26;
    if (value < 0) return std::nullopt;
    bits = (bits << 5) | static_cast<std::uint32_t>(value);
    held += 5;
    if (held >= 8) {
      held -= 8;
      out.push_back(static_cast<std::uint8_t>((bits >> held) & 0xff));
    }
  }
  return out;
}

Result<std::string> new_totp_secret() {
  std::array<unsigned char, 20> secret{};
  if (auto drawn = crypto::random_bytes(secret); !drawn) return std::move(drawn).error();
  return base32_encode(secret);
}

std::int64_t totp_step(std::int64_t unix_ms) {
  return unix_ms < 0 ? 0 : unix_ms / kTotpStepMs;
}

std::string totp_code(std::span<const std::uint8_t> secret, std::int64_t step) {
  std::array<std::uint8_t, 8> counter{};
  auto value = static_cast<std::uint64_t>(step);
  for (int i = 7; i >= 0; --i) {
    counter[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(value & 0xff);
    value >>= 8;
  }
  const auto mac = crypto::hmac_sha1(secret, counter);
  // RFC 4226 §5.3, dynamic truncation.
  const std::size_t offset = mac[19] & 0x0f;
  const std::uint32_t binary = (static_cast<std::uint32_t>(mac[offset] & 0x7f) << 24) |
                               (static_cast<std::uint32_t>(mac[offset + 1]) << 16) |
                               (static_cast<std::uint32_t>(mac[offset + 2]) << 8) | mac[offset + 3];
  std::string code = std::to_string(binary % 1'000'000);
  return std::string(static_cast<std::size_t>(kTotpDigits) - code.size(), '0') + code;
}

std::optional<std::int64_t> match_totp(std::string_view base32_secret, std::string_view code, std::int64_t now_ms) {
  std::string digits;
  for (char c : code) {
    if (c == ' ') continue;
    if (c < '0' || c > '9') return std::nullopt;
    digits += c;
  }
  if (digits.size() != static_cast<std::size_t>(kTotpDigits)) return std::nullopt;
  const auto secret = base32_decode(base32_secret);
  if (!secret || secret->empty()) return std::nullopt;
  const std::int64_t now_step = totp_step(now_ms);
  // Every candidate is computed and compared, so the time taken does not say which one matched.
  std::optional<std::int64_t> matched;
  for (std::int64_t step = now_step - 1; step <= now_step + 1; ++step) {
    if (step < 0) continue;
    if (crypto::constant_time_equal(totp_code(*secret, step), digits) && !matched) matched = step;
  }
  return matched;
}

std::string totp_uri(std::string_view issuer, std::string_view account, std::string_view base32_secret) {
  return "otpauth://totp/" + percent_encode(issuer) + ":" + percent_encode(account) +
         "?secret=" + std::string(base32_secret) + "&issuer=" + percent_encode(issuer) +
         "&algorithm=SHA1&digits=6&period=30";
}

}  // namespace kelvin::accounts
