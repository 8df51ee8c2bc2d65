#include "kelvin/core/time_arguments.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace kelvin {
namespace {

constexpr std::int64_t kNow = 1'764'000'000'000;  // 2025-11-24T16:00:00Z

std::int64_t time_ok(std::string_view text) {
  auto parsed = parse_time_argument(text, kNow);
  EXPECT_TRUE(parsed.ok()) << text;
  return parsed.ok() ? *parsed : -1;
}

TEST(TimeArguments, IsoFormsNowAndRelativeTimes) {
  EXPECT_EQ(time_ok("2026-11-22T10:00:00Z"), 1'795'341'600'000);
  EXPECT_EQ(time_ok("2026-11-22T10:00Z"), 1'795'341'600'000);
  EXPECT_EQ(time_ok("2026-11-22"), 1'795'305'600'000);
  EXPECT_EQ(time_ok("1970-01-01"), 0);
  EXPECT_EQ(time_ok("now"), kNow);
  EXPECT_EQ(time_ok("-30s"), kNow - 30 * kSecondMs);
  EXPECT_EQ(time_ok("-15m"), kNow - 15 * kMinuteMs);
  EXPECT_EQ(time_ok("-1h"), kNow - kHourMs);
  EXPECT_EQ(time_ok("-7d"), kNow - 7 * kDayMs);
}

TEST(TimeArguments, MalformedTimesNameTheAcceptedForms) {
  for (std::string_view bad : {"", "yesterday", "2026-13-01", "2026-02-30", "2026-11-22T24:00Z", "2026-11-22T10:00",
                               "2026-11-22T10:00:00+01:00", "-0h", "-1w", "+1h", "1764000000000", "-h"}) {
    auto parsed = parse_time_argument(bad, kNow);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error().code, Errc::invalid_argument);
    EXPECT_NE(parsed.error().message.find("ISO 8601"), std::string::npos) << parsed.error().message;
  }
}

TEST(TimeArguments, Steps) {
  EXPECT_EQ(*parse_step("30s"), 30 * kSecondMs);
  EXPECT_EQ(*parse_step("5m"), 5 * kMinuteMs);
  EXPECT_EQ(*parse_step("1h"), kHourMs);
  EXPECT_EQ(*parse_step("2d"), 2 * kDayMs);
  for (std::string_view bad : {"", "0s", "-1h", "1", "1.5h", "h", "99999999999999d"}) {
    auto parsed = parse_step(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error().code, Errc::invalid_argument);
  }
}

TEST(TimeArguments, DefaultStepGivesAboutSixtyRoundBuckets) {
  EXPECT_EQ(default_step(kHourMs), kMinuteMs);
  EXPECT_EQ(default_step(kDayMs), 24 * kMinuteMs);
  EXPECT_EQ(default_step(7 * kDayMs), 3 * kHourMs);
  EXPECT_EQ(default_step(10 * kSecondMs), kSecondMs);
  EXPECT_EQ(default_step(365 * kDayMs), 7 * kDayMs);
}

TEST(TimeArguments, FormattingStepsAndTimes) {
  EXPECT_EQ(format_step(90 * kSecondMs), "90s");
  EXPECT_EQ(format_step(2 * kHourMs), "2h");
  EXPECT_EQ(format_step(kDayMs), "1d");
  EXPECT_EQ(format_step(1500), "1500ms");
  EXPECT_EQ(format_utc_ms(1'795'341'600'999), "2026-11-22T10:00:00Z");
  EXPECT_EQ(format_utc_ms(-1), "1969-12-31T23:59:59Z");
}

}  // namespace
}  // namespace kelvin
