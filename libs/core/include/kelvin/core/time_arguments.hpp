#pragma once
// Times and durations as people type them, on kelvinctl's command line (--from, --to, --step) and
// in the HTTPS API's query parameters (docs/api.md):
//   time:  ISO 8601 UTC ("2026-11-22T10:00:00Z", "2026-11-22T10:00Z", "2026-11-22"), "now", or
//          relative to now ("-30s", "-15m", "-1h", "-7d")
//   step:  a positive whole number of seconds, minutes, hours or days ("30s", "1m", "1h", "1d")
// All in Unix milliseconds, UTC.

#include <cstdint>
#include <string>
#include <string_view>

#include "kelvin/core/result.hpp"

namespace kelvin {

inline constexpr std::int64_t kSecondMs = 1000;
inline constexpr std::int64_t kMinuteMs = 60 * kSecondMs;
inline constexpr std::int64_t kHourMs = 60 * kMinuteMs;
inline constexpr std::int64_t kDayMs = 24 * kHourMs;

// Errc::invalid_argument with a message that shows the accepted forms.
Result<std::int64_t> parse_time_argument(std::string_view text, std::int64_t now_ms);
Result<std::int64_t> parse_step(std::string_view text);

// The step for about `target_buckets` buckets over `range_ms`, rounded up to a whole number of
// seconds (steps up to a minute), minutes (up to an hour), hours (up to a day) or days.
std::int64_t default_step(std::int64_t range_ms, std::int64_t target_buckets = 60);

// "30s", "5m", "3h", "2d": the largest unit that divides `step_ms` exactly (whole seconds
// assumed; a step with milliseconds is written "1500ms").
std::string format_step(std::int64_t step_ms);

// The current time (system clock), Unix milliseconds.
std::int64_t wall_clock_ms();

// "2026-11-22T10:00:00Z" for a time in milliseconds (the milliseconds are dropped).
std::string format_utc_ms(std::int64_t ms);

}  // namespace kelvin
