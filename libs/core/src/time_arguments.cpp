#include "kelvin/core/time_arguments.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <ctime>
#include <optional>

#include "kelvin/core/time_format.hpp"

namespace kelvin {
namespace {

constexpr const char* kTimeForms =
    "use ISO 8601 UTC such as 2026-11-22T10:00:00Z, \"now\", or a time relative to now such as -30s, -15m, -1h, -7d";
constexpr const char* kStepForms = "use a whole number of seconds, minutes, hours or days such as 30s, 5m, 1h, 1d";
// Longer than any sensible history, short enough that nothing below overflows.
constexpr std::int64_t kMaxAmountMs = 100'000 * 366 * kDayMs;

std::optional<std::int64_t> unit_ms(char unit) {
  switch (unit) {
    case 's':
      return kSecondMs;
    case 'm':
      return kMinuteMs;
    case 'h':
      return kHourMs;
    case 'd':
      return kDayMs;
    default:
      return std::nullopt;
  }
}

// "<digits><unit>" → milliseconds; nullopt if malformed, zero or absurdly long.
std::optional<std::int64_t> parse_amount(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  auto unit = unit_ms(text.back());
  if (!unit) return std::nullopt;
  const std::string_view digits = text.substr(0, text.size() - 1);
  std::int64_t count = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), count);
  if (error != std::errc() || end != digits.data() + digits.size() || count <= 0) return std::nullopt;
  if (count > kMaxAmountMs / *unit) return std::nullopt;
  return count * *unit;
}

// Exactly `width` decimal digits at `text[at]`.
std::optional<int> digits_at(std::string_view text, std::size_t at, std::size_t width) {
  if (at + width > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = at; i < at + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// YYYY-MM-DD[THH:MM[:SS]Z] → Unix milliseconds.
std::optional<std::int64_t> parse_iso8601_utc(std::string_view text) {
  auto year = digits_at(text, 0, 4), month = digits_at(text, 5, 2), day = digits_at(text, 8, 2);
  if (!year || !month || !day || text[4] != '-' || text[7] != '-') return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(*year), std::chrono::month(static_cast<unsigned>(*month)),
                                         std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok()) return std::nullopt;
  int hour = 0, minute = 0, second = 0;
  if (text.size() > 10) {
    auto h = digits_at(text, 11, 2), m = digits_at(text, 14, 2);
    if (text[10] != 'T' || !h || !m || text[13] != ':') return std::nullopt;
    hour = *h;
    minute = *m;
    std::size_t rest = 16;
    if (text.size() > rest && text[rest] == ':') {
      auto s = digits_at(text, rest + 1, 2);
      if (!s) return std::nullopt;
      second = *s;
      rest += 3;
    }
    if (text.size() != rest + 1 || text[rest] != 'Z') return std::nullopt;
    if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  }
  const auto days = std::chrono::sys_days(date).time_since_epoch().count();
  return static_cast<std::int64_t>(days) * kDayMs + hour * kHourMs + minute * kMinuteMs + second * kSecondMs;
}

std::int64_t round_up(std::int64_t value, std::int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

}  // namespace

Result<std::int64_t> parse_time_argument(std::string_view text, std::int64_t now_ms) {
  if (text == "now") return now_ms;
  if (!text.empty() && text.front() == '-') {
    if (auto amount = parse_amount(text.substr(1))) return now_ms - *amount;
  } else if (auto at = parse_iso8601_utc(text)) {
    return *at;
  }
  return make_error(Errc::invalid_argument, "cannot read the time '" + std::string(text) + "': " + kTimeForms);
}

Result<std::int64_t> parse_step(std::string_view text) {
  if (auto amount = parse_amount(text)) return *amount;
  return make_error(Errc::invalid_argument, "cannot read the step '" + std::string(text) + "': " + kStepForms);
}

std::int64_t default_step(std::int64_t range_ms, std::int64_t target_buckets) {
  const std::int64_t exact = std::max<std::int64_t>(1, (range_ms + target_buckets - 1) / target_buckets);
  if (exact <= kMinuteMs) return round_up(exact, kSecondMs);
  if (exact <= kHourMs) return round_up(exact, kMinuteMs);
  if (exact <= kDayMs) return round_up(exact, kHourMs);
  return round_up(exact, kDayMs);
}

std::string format_step(std::int64_t step_ms) {
  constexpr std::array<std::pair<std::int64_t, const char*>, 4> units = {
      {{kDayMs, "d"}, {kHourMs, "h"}, {kMinuteMs, "m"}, {kSecondMs, "s"}}};
  for (const auto& [unit, suffix] : units) {
    if (step_ms % unit == 0) return std::to_string(step_ms / unit) + suffix;
  }
  return std::to_string(step_ms) + "ms";
}

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string format_utc_ms(std::int64_t ms) {
  const std::int64_t seconds = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  return format_utc_timestamp(static_cast<std::time_t>(seconds));
}

}  // namespace kelvin
