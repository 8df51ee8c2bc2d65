#include "kelvin/core/utc_time.hpp"

#include <gtest/gtest.h>

#include <ctime>
#include <string>

#include "kelvin/core/time_format.hpp"

namespace kelvin {
namespace {

TEST(UtcTime, KnownInstants) {
  EXPECT_EQ(parse_utc_seconds("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_utc_seconds("2023-11-14T22:13:20Z"), 1'700'000'000);
  EXPECT_EQ(parse_utc_seconds("2000-02-29T00:00:00Z"), (10957 + 59) * 86400);
  EXPECT_EQ(parse_utc_seconds("9999-12-31T23:59:59Z"), kMaxUtcSeconds);
  EXPECT_EQ(format_utc_seconds(1'700'000'000), "2023-11-14T22:13:20Z");
  EXPECT_EQ(format_utc_seconds(kMaxUtcSeconds), "9999-12-31T23:59:59Z");
}

// The portable conversion agrees with the C library's gmtime over centuries, leap years included.
TEST(UtcTime, AgreesWithTheCLibraryEveryFewDays) {
  for (std::int64_t seconds = 0; seconds < 4'102'444'800; seconds += 86'400 * 3 + 3'607) {
    const std::string text = format_utc_seconds(seconds);
    ASSERT_EQ(text, format_utc_timestamp(static_cast<std::time_t>(seconds))) << seconds;
    ASSERT_EQ(parse_utc_seconds(text), seconds) << text;
  }
}

TEST(UtcTime, RefusesWhatIsNotADayThatExists) {
  for (const char* text :
       {"2026-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z", "2026-01-00T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T23:60:00Z",
        "2026-01-01T23:59:60Z", "1969-12-31T23:59:59Z", "2026-01-01T00:00:00", "2026-01-01 00:00:00Z",
        "2026-01-01T00:00:00+00:00", "2026-1-01T00:00:00Z", "", "２026-01-01T00:00:00Z"}) {
    EXPECT_FALSE(parse_utc_seconds(text)) << text;
  }
  EXPECT_TRUE(parse_utc_seconds("2024-02-29T12:00:00Z"));
  EXPECT_TRUE(parse_utc_seconds("2000-02-29T12:00:00Z"));
}

}  // namespace
}  // namespace kelvin
