#pragma once
// UTC times as "YYYY-MM-DDTHH:MM:SSZ" (RFC 3339, the only form kelvin writes into signed
// statements), converted to and from seconds since 1970 without the C library's time zone code.
// Portable (core_portable): a device checks the expiry of what it is sent with this.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kelvin {

// Years 1970..9999.
inline constexpr std::int64_t kMinUtcSeconds = 0;
inline constexpr std::int64_t kMaxUtcSeconds = 253'402'300'799;  // 9999-12-31T23:59:59Z

// Seconds since 1970-01-01T00:00:00Z; nullopt for any other shape, a date that does not exist
// (2026-02-30), a field out of range, or a year before 1970. No leap seconds (":60" is refused).
std::optional<std::int64_t> parse_utc_seconds(std::string_view text);

// The inverse of parse_utc_seconds. Precondition: kMinUtcSeconds <= seconds <= kMaxUtcSeconds.
std::string format_utc_seconds(std::int64_t seconds);

}  // namespace kelvin
