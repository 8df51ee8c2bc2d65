#include "kelvin/core/time_format.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <string>

namespace kelvin {
namespace {

TEST(TimeFormat, Epoch) {
  EXPECT_EQ(format_utc_date(0), "1970-01-01");
  EXPECT_EQ(format_utc_timestamp(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_utc_compact(0), "19700101T000000Z");
}

TEST(TimeFormat, KnownInstant) {
  // 1'700'000'000 s after the epoch is 2023-11-14 22:13:20 UTC.
  EXPECT_EQ(format_utc_date(1'700'000'000), "2023-11-14");
  EXPECT_EQ(format_utc_timestamp(1'700'000'000), "2023-11-14T22:13:20Z");
  EXPECT_EQ(format_utc_compact(1'700'000'000), "20231114T221320Z");
}

TEST(TimeFormat, LeapDayAndEndOfDay) {
  // 2000-01-01 is 10957 days after the epoch; Feb 29 is 59 days later.
  constexpr std::time_t leap_day = (10957 + 59) * 86400;
  EXPECT_EQ(format_utc_timestamp(leap_day), "2000-02-29T00:00:00Z");
  EXPECT_EQ(format_utc_timestamp(leap_day - 1), "2000-02-28T23:59:59Z");
  EXPECT_EQ(format_utc_date(leap_day + 86400), "2000-03-01");
}

TEST(TimeFormat, IsUtcRegardlessOfLocalTimeZone) {
  const char* old = std::getenv("TZ");
  std::string saved = old != nullptr ? old : "";
  // A POSIX TZ rule (five hours east of UTC): needs no tzdata, so it always takes effect.
  setenv("TZ", "KLV-5", 1);
  tzset();
  std::string stamp = format_utc_timestamp(1'700'000'000);
  if (old != nullptr) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
  EXPECT_EQ(stamp, "2023-11-14T22:13:20Z");
}

}  // namespace
}  // namespace kelvin
