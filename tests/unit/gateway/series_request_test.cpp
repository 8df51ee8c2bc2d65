// GET /api/v1/devices/{id}/series: its parameters read into a store query (the route's answers
// with a real store are in fleet_routes_test.cpp).

#include "kelvin/gateway/series_request.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace kelvin::gateway {
namespace {

constexpr std::int64_t kNow = 1'795'345'200'000;  // 2026-11-22T11:00:00Z
constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kHour = 60 * kMinute;

store::Query read_ok(const QueryParameters& parameters) {
  auto read = read_series_request("d1", parameters, kNow);
  if (auto* refused = std::get_if<http::Response>(&read)) {
    ADD_FAILURE() << refused->body;
    return {};
  }
  return std::get<store::Query>(read);
}

std::string refusal_code(const QueryParameters& parameters) {
  auto read = read_series_request("d1", parameters, kNow);
  auto* refused = std::get_if<http::Response>(&read);
  if (refused == nullptr) {
    ADD_FAILURE() << "accepted";
    return "";
  }
  EXPECT_EQ(refused->status, 400);
  return nlohmann::json::parse(refused->body)["error"]["code"].get<std::string>();
}

TEST(SeriesRequest, MillisecondsAndIsoTimes) {
  auto query = read_ok(
      {{"quantity", "humidity"}, {"from", "1795341600000"}, {"to", "2026-11-22T12:00:00Z"}, {"step", "900000"}});
  EXPECT_EQ(query.device_id, "d1");
  EXPECT_EQ(query.quantity, proto::Quantity::humidity);
  EXPECT_EQ(query.from_ms, 1'795'341'600'000);
  EXPECT_EQ(query.to_ms, 1'795'348'800'000);
  EXPECT_EQ(query.step_ms, 15 * kMinute);
  EXPECT_FALSE(query.force_resolution.has_value());
}

TEST(SeriesRequest, RelativeTimesStepUnitsAndDefaults) {
  auto query = read_ok({{"quantity", "temperature"}, {"from", "-1h"}, {"step", "5m"}});
  EXPECT_EQ(query.from_ms, kNow - kHour);
  EXPECT_EQ(query.to_ms, kNow) << "to defaults to now";
  EXPECT_EQ(query.step_ms, 5 * kMinute);
  auto defaulted = read_ok({{"quantity", "temperature"}, {"from", "-1d"}, {"to", "now"}});
  EXPECT_EQ(defaulted.step_ms, 24 * kMinute) << "about 60 buckets";
}

TEST(SeriesRequest, MissingAndMalformedParameters) {
  EXPECT_EQ(refusal_code({{"from", "-1h"}}), "missing_parameter");
  EXPECT_EQ(refusal_code({{"quantity", "temperature"}}), "missing_parameter");
  EXPECT_EQ(refusal_code({{"quantity", "Temperature"}, {"from", "-1h"}}), "invalid_quantity");
  for (const char* bad : {"tomorrow", "-1", "+5", "1.5", "2026-11-22T10:00:00+01:00", "99999999999999999999"}) {
    EXPECT_EQ(refusal_code({{"quantity", "temperature"}, {"from", bad}}), "invalid_time") << bad;
    EXPECT_EQ(refusal_code({{"quantity", "temperature"}, {"from", "-1h"}, {"to", bad}}), "invalid_time") << bad;
  }
  for (const char* bad : {"0", "-60000", "1.5m", "1w", "m"}) {
    EXPECT_EQ(refusal_code({{"quantity", "temperature"}, {"from", "-1h"}, {"step", bad}}), "invalid_step") << bad;
  }
}

TEST(SeriesRequest, TimesStayWithinWhatTheStoreHolds) {
  EXPECT_EQ(read_ok({{"quantity", "temperature"}, {"from", "0"}, {"to", "3600000"}}).from_ms, 0);
  EXPECT_EQ(refusal_code({{"quantity", "temperature"}, {"from", "-1h"}, {"to", "253402300800000"}}), "invalid_time");
  EXPECT_EQ(refusal_code({{"quantity", "temperature"}, {"from", "-100000000d"}}), "invalid_time");
}

TEST(SeriesRequest, TheRangeMustBeNonEmpty) {
  EXPECT_EQ(refusal_code({{"quantity", "temperature"}, {"from", "now"}}), "invalid_range");
  EXPECT_EQ(refusal_code({{"quantity", "temperature"}, {"from", "-1h"}, {"to", "-2h"}}), "invalid_range");
}

TEST(SeriesRequest, PointsAreCountedAsTheAlignedBucketsAnAnswerHolds) {
  // [00:00:30, 02:46:30) at one minute overlaps 167 buckets, 00:00 to 02:46, though it spans
  // 166 minutes: the bound is on what is answered.
  auto query = read_ok({{"quantity", "temperature"}, {"from", "30000"}, {"to", "9990000"}, {"step", "1m"}});
  EXPECT_EQ(query.to_ms, 9'990'000);
  // 10,000 aligned buckets fit, 10,001 do not; a misaligned range of 10,000 steps overlaps 10,001.
  EXPECT_EQ(read_ok({{"quantity", "temperature"}, {"from", "0"}, {"to", "600000000"}, {"step", "1m"}}).step_ms,
            kMinute);
  EXPECT_EQ(refusal_code({{"quantity", "temperature"}, {"from", "0"}, {"to", "600000001"}, {"step", "1m"}}),
            "too_many_points");
  EXPECT_EQ(refusal_code({{"quantity", "temperature"}, {"from", "1"}, {"to", "600000001"}, {"step", "1m"}}),
            "too_many_points");
  EXPECT_EQ(refusal_code({{"quantity", "temperature"}, {"from", "0"}, {"to", "now"}, {"step", "1"}}),
            "too_many_points");
}

}  // namespace
}  // namespace kelvin::gateway
