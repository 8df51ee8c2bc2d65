// Queries: resolution choice, bucket alignment, validation, and rollups agreeing with raw data.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <tuple>

#include "kelvin/testing/temp_dir.hpp"
#include "store_test_support.hpp"

namespace kelvin::store {
namespace {

using namespace kelvin::store::testing;

constexpr proto::Quantity kTemperature = proto::Quantity::temperature;
constexpr proto::Quantity kHumidity = proto::Quantity::humidity;

class QueryTest : public StoreFixture {
 protected:
  QueryResult run(const Query& q) {
    auto result = store().query(q);
    EXPECT_TRUE(result.ok()) << result.error().message;
    return result.ok() ? std::move(*result) : QueryResult{};
  }
};

TEST_F(QueryTest, ResolutionFollowsTheStep) {
  commit_ok(store(), batch_of("sensor-1", sequence(1, 10, kT0)), kT0);
  auto resolution_for = [&](std::int64_t step) {
    return run(query_of("sensor-1", kTemperature, kT0, kT0 + kDay, step)).resolution;
  };
  EXPECT_EQ(resolution_for(kHour), Resolution::hour);
  EXPECT_EQ(resolution_for(6 * kHour), Resolution::hour);  // not a multiple of 8 hours
  EXPECT_EQ(resolution_for(9 * kHour), Resolution::hour);
  EXPECT_EQ(resolution_for(8 * kHour), Resolution::eight_hours);
  EXPECT_EQ(resolution_for(kDay), Resolution::eight_hours);
  EXPECT_EQ(resolution_for(kMinute), Resolution::minute);
  EXPECT_EQ(resolution_for(90 * kMinute), Resolution::minute);  // a multiple of a minute, not of an hour
  EXPECT_EQ(resolution_for(kSecond), Resolution::raw);
  EXPECT_EQ(resolution_for(kMinute + 1), Resolution::raw);
}

TEST_F(QueryTest, AYearComesFromHourAndEightHourRollupsAndEqualsRaw) {
  // One reading every 20 minutes for a year (26,280 readings), with a daily temperature cycle.
  std::vector<proto::Reading> readings;
  std::uint64_t seq = 1;
  for (std::int64_t ts = kT0; ts < kT0 + 365 * kDay; ts += 20 * kMinute, ++seq) {
    const double temperature =
        15.0 + static_cast<double>((ts / kHour) % 24) / 2.0 + static_cast<double>(seq % 7) / 10.0;
    readings.push_back(reading(seq, ts, temperature));
    if (readings.size() == 500) {
      commit_ok(store(), batch_of("sensor-1", readings), ts);
      readings.clear();
    }
  }
  commit_ok(store(), batch_of("sensor-1", readings), kT0 + 365 * kDay);

  auto year = run(query_of("sensor-1", kTemperature, kT0, kT0 + 365 * kDay, kHour));
  EXPECT_EQ(year.resolution, Resolution::hour);
  ASSERT_EQ(year.buckets.size(), 365u * 24u);
  EXPECT_EQ(year.buckets.front().start_ms, kT0);
  EXPECT_EQ(year.buckets.back().start_ms, kT0 + 365 * kDay - kHour);
  EXPECT_EQ(year.buckets[5].count, 3u);

  auto raw = run(query_of("sensor-1", kTemperature, kT0, kT0 + 365 * kDay, kHour, Resolution::raw));
  EXPECT_EQ(raw.resolution, Resolution::raw);
  expect_same_buckets(year.buckets, raw.buckets, "year by hour");

  // At 8 hours (the dashboard's step for a year) and a day: from the 8-hour rollups, as raw.
  auto by_eight_hours = run(query_of("sensor-1", kTemperature, kT0, kT0 + 365 * kDay, 8 * kHour));
  EXPECT_EQ(by_eight_hours.resolution, Resolution::eight_hours);
  ASSERT_EQ(by_eight_hours.buckets.size(), 365u * 3u);
  EXPECT_EQ(by_eight_hours.buckets[0].count, 24u);
  expect_same_buckets(
      by_eight_hours.buckets,
      run(query_of("sensor-1", kTemperature, kT0, kT0 + 365 * kDay, 8 * kHour, Resolution::raw)).buckets,
      "year by 8 hours");
  auto daily = run(query_of("sensor-1", kTemperature, kT0, kT0 + 365 * kDay, kDay));
  EXPECT_EQ(daily.resolution, Resolution::eight_hours);
  ASSERT_EQ(daily.buckets.size(), 365u);
  EXPECT_EQ(daily.buckets[0].count, 72u);
}

// Random data for several devices and both quantities, committed in shuffled batches with resends:
// every rollup-based answer must equal the raw-based one, and the raw one must equal an oracle
// computed here from the readings themselves.
TEST_F(QueryTest, RollupsMatchRawOnRandomData) {
  std::mt19937_64 random(20250101);
  std::uniform_real_distribution<double> temperature(-40.0, 60.0);
  std::uniform_real_distribution<double> humidity(0.0, 100.0);
  std::uniform_int_distribution<std::int64_t> gap(1, 4 * kMinute);
  const std::vector<std::string> devices = {"alpha", "bravo", "charlie"};

  std::vector<DeviceReading> all;
  for (const auto& device : devices) {
    std::int64_t ts = kT0 + static_cast<std::int64_t>(random() % kHour);
    for (std::uint64_t seq = 1; seq <= 1500; ++seq) {
      ts += gap(random);
      std::optional<double> t;
      std::optional<double> h;
      switch (random() % 3) {
        case 0:
          t = temperature(random);
          break;
        case 1:
          h = humidity(random);
          break;
        default:
          t = temperature(random);
          h = humidity(random);
      }
      all.push_back(DeviceReading{device, reading(seq, ts, t, h)});
      if (seq % 97 == 0) {  // now and then two readings share a timestamp: "last" breaks the tie by seq
        ++seq;
        all.push_back(DeviceReading{device, reading(seq, ts, temperature(random), humidity(random))});
      }
    }
  }
  std::shuffle(all.begin(), all.end(), random);
  for (std::size_t start = 0; start < all.size(); start += 400) {
    IngestBatch batch;
    const std::size_t end = std::min(all.size(), start + 400);
    batch.readings.assign(all.begin() + static_cast<std::ptrdiff_t>(start),
                          all.begin() + static_cast<std::ptrdiff_t>(end));
    // Resend a slice of the previous batch, as a device would after a lost ack.
    if (start >= 400) {
      batch.readings.insert(batch.readings.end(), all.begin() + static_cast<std::ptrdiff_t>(start - 50),
                            all.begin() + static_cast<std::ptrdiff_t>(start));
    }
    auto summary = commit_ok(store(), batch, kT0);
    EXPECT_EQ(summary.duplicates, start >= 400 ? 50u : 0u);
  }

  struct Oracle {
    double min = 1e300, max = -1e300, sum = 0;
    std::uint64_t count = 0;
    std::tuple<std::int64_t, std::uint64_t, double> last{-1, 0, 0};
  };
  const std::int64_t from = kT0;
  const std::int64_t to = kT0 + 7 * kDay;
  for (const auto& device : devices) {
    for (proto::Quantity quantity : {kTemperature, kHumidity}) {
      const std::string what = device + "/" + std::string(proto::info(quantity).name);
      for (std::int64_t step : {kMinute, 5 * kMinute, kHour, 3 * kHour}) {
        std::map<std::int64_t, Oracle> oracle;
        for (const auto& item : all) {
          auto value = item.reading.value(quantity);
          if (item.device_id != device || !value) continue;
          Oracle& o = oracle[item.reading.ts_ms - item.reading.ts_ms % step];
          o.min = std::min(o.min, *value);
          o.max = std::max(o.max, *value);
          o.sum += *value;
          ++o.count;
          o.last = std::max(o.last, std::make_tuple(item.reading.ts_ms, item.reading.seq, *value));
        }
        std::vector<Bucket> expected;
        for (const auto& [start, o] : oracle) {
          expected.push_back(
              Bucket{start, o.min, o.max, o.sum / static_cast<double>(o.count), o.count, std::get<2>(o.last)});
        }
        ASSERT_GT(expected.size(), 10u);

        auto raw = run(query_of(device, quantity, from, to, step, Resolution::raw));
        expect_same_buckets(raw.buckets, expected, what + " raw step " + std::to_string(step));
        auto minute = run(query_of(device, quantity, from, to, step, Resolution::minute));
        expect_same_buckets(minute.buckets, raw.buckets, what + " minute step " + std::to_string(step));
        if (step % kHour == 0) {
          auto hour = run(query_of(device, quantity, from, to, step, Resolution::hour));
          expect_same_buckets(hour.buckets, raw.buckets, what + " hour step " + std::to_string(step));
        }
        auto automatic = run(query_of(device, quantity, from, to, step));
        EXPECT_EQ(automatic.resolution, step % kHour == 0 ? Resolution::hour : Resolution::minute);
      }
    }
  }
}

TEST_F(QueryTest, BucketsAreAlignedToTheStepAndTheRangeIsWidenedToWholeBuckets) {
  // Readings at 00:00:30, 00:01:30, ..., 00:09:30 after kT0.
  std::vector<proto::Reading> readings;
  for (std::uint64_t i = 0; i < 10; ++i) {
    readings.push_back(
        reading(i + 1, kT0 + static_cast<std::int64_t>(i) * kMinute + 30 * kSecond, static_cast<double>(i)));
  }
  commit_ok(store(), batch_of("sensor-1", readings), kT0);

  // 5-minute buckets start at multiples of 5 minutes since the epoch, whatever from_ms is. The
  // range [00:02:10, 00:06:00) touches the buckets at 00:00 and 00:05, which come back whole.
  for (auto force : {std::optional<Resolution>(Resolution::raw), std::optional<Resolution>(Resolution::minute),
                     std::optional<Resolution>()}) {
    auto result = run(
        query_of("sensor-1", kTemperature, kT0 + 2 * kMinute + 10 * kSecond, kT0 + 6 * kMinute, 5 * kMinute, force));
    ASSERT_EQ(result.buckets.size(), 2u);
    EXPECT_EQ(result.buckets[0].start_ms, kT0);
    EXPECT_EQ(result.buckets[0].count, 5u);
    EXPECT_EQ(result.buckets[0].min, 0.0);
    EXPECT_EQ(result.buckets[0].max, 4.0);
    EXPECT_DOUBLE_EQ(result.buckets[0].mean, 2.0);
    EXPECT_EQ(result.buckets[0].last, 4.0);
    EXPECT_EQ(result.buckets[1].start_ms, kT0 + 5 * kMinute);
    EXPECT_EQ(result.buckets[1].count, 5u);
  }

  // A range ending exactly on a bucket boundary does not include the next bucket.
  auto exact = run(query_of("sensor-1", kTemperature, kT0, kT0 + 5 * kMinute, 5 * kMinute));
  ASSERT_EQ(exact.buckets.size(), 1u);

  // Empty buckets are left out: 2-minute steps over 00:00..00:20 with data only up to 00:10.
  auto sparse = run(query_of("sensor-1", kTemperature, kT0, kT0 + 20 * kMinute, 2 * kMinute));
  ASSERT_EQ(sparse.buckets.size(), 5u);
  for (std::size_t i = 1; i < sparse.buckets.size(); ++i) {
    EXPECT_EQ(sparse.buckets[i].start_ms - sparse.buckets[i - 1].start_ms, 2 * kMinute);
  }
}

TEST_F(QueryTest, LastIsTheValueWithTheLatestTimestampNotTheLatestSeq) {
  commit_ok(store(), batch_of("sensor-1", {reading(1, kT0 + 50 * kSecond, 1.0), reading(2, kT0 + 10 * kSecond, 2.0)}),
            kT0);
  for (auto force : {Resolution::raw, Resolution::minute, Resolution::hour}) {
    auto result = run(query_of("sensor-1", kTemperature, kT0, kT0 + kHour, kHour, force));
    ASSERT_EQ(result.buckets.size(), 1u);
    EXPECT_EQ(result.buckets[0].last, 1.0) << to_string(force);
  }
  // A later commit with an older timestamp does not displace the rollup's last value either.
  commit_ok(store(), batch_of("sensor-1", {reading(3, kT0 + 5 * kSecond, 3.0)}), kT0);
  auto hour = run(query_of("sensor-1", kTemperature, kT0, kT0 + kHour, kHour, Resolution::hour));
  ASSERT_EQ(hour.buckets.size(), 1u);
  EXPECT_EQ(hour.buckets[0].last, 1.0);
  EXPECT_EQ(hour.buckets[0].count, 3u);
}

TEST_F(QueryTest, UnknownDeviceOrQuantityGivesNoBuckets) {
  commit_ok(store(), batch_of("sensor-1", sequence(1, 5, kT0)), kT0);
  EXPECT_TRUE(run(query_of("nobody", kTemperature, kT0, kT0 + kHour, kMinute)).buckets.empty());
  EXPECT_TRUE(run(query_of("sensor-1", kHumidity, kT0, kT0 + kHour, kMinute)).buckets.empty());
  EXPECT_FALSE(run(query_of("sensor-1", kTemperature, kT0, kT0 + kHour, kMinute)).buckets.empty());
}

TEST_F(QueryTest, InvalidArgumentsAreRefused) {
  auto expect_invalid = [&](const Query& q, const std::string& why) {
    auto result = store().query(q);
    ASSERT_FALSE(result.ok()) << why;
    EXPECT_EQ(result.error().code, Errc::invalid_argument) << why;
    EXPECT_FALSE(result.error().message.empty());
  };
  expect_invalid(query_of("sensor-1", kTemperature, kT0, kT0, kMinute), "empty range");
  expect_invalid(query_of("sensor-1", kTemperature, kT0 + kHour, kT0, kMinute), "reversed range");
  expect_invalid(query_of("sensor-1", kTemperature, kT0, kT0 + kHour, 0), "zero step");
  expect_invalid(query_of("sensor-1", kTemperature, kT0, kT0 + kHour, -kMinute), "negative step");
  expect_invalid(query_of("sensor-1", kTemperature, kT0, kT0 + (kMaxQueryBuckets + 1) * kSecond, kSecond),
                 "too many buckets");
  expect_invalid(query_of("sensor-1", kTemperature, std::numeric_limits<std::int64_t>::min(),
                          std::numeric_limits<std::int64_t>::max(), kHour),
                 "overflowing range");
  expect_invalid(query_of("sensor-1", kTemperature, kT0, kT0 + kHour, kMinute, Resolution::hour),
                 "hour rollups for minute steps");
  expect_invalid(query_of("sensor-1", kTemperature, kT0, kT0 + kHour, 90 * kSecond, Resolution::minute),
                 "minute rollups for 90 s steps");
  expect_invalid(query_of("Not An Id", kTemperature, kT0, kT0 + kHour, kMinute), "malformed device id");

  // The limit itself is allowed.
  auto at_limit = store().query(query_of("sensor-1", kTemperature, kT0, kT0 + kMaxQueryBuckets * kSecond, kSecond));
  EXPECT_TRUE(at_limit.ok()) << at_limit.error().message;
}

TEST_F(QueryTest, FallsBackToAFinerResolutionWhenRetentionThinnedTheCoarseOne) {
  StoreOptions options;
  options.retention = RetentionPolicy{5, 15, 10};  // raw 5 days, minute rollups 15, hour rollups 10
  reopen(options);
  const std::int64_t now = kT0 + 400 * kDay;
  std::vector<proto::Reading> readings;
  std::uint64_t seq = 1;
  for (std::int64_t ts = now - 40 * kDay; ts < now; ts += 30 * kMinute) readings.push_back(reading(seq++, ts, 20.0));
  commit_ok(store(), batch_of("sensor-1", readings), now);
  auto report = store().apply_retention(now);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_GT(report->hour_deleted, 0u);

  // Hourly steps over the last 5 days: hour rollups cover them.
  EXPECT_EQ(run(query_of("sensor-1", kTemperature, now - 5 * kDay, now, kHour)).resolution, Resolution::hour);
  // Over the last 12 days they do not; minute rollups do, and answer in hourly buckets.
  auto twelve = run(query_of("sensor-1", kTemperature, now - 12 * kDay, now, kHour));
  EXPECT_EQ(twelve.resolution, Resolution::minute);
  ASSERT_EQ(twelve.buckets.size(), 12u * 24u);
  EXPECT_EQ(twelve.buckets[0].start_ms, now - 12 * kDay);
  EXPECT_EQ(twelve.buckets[0].count, 2u);
  // 40 days back nothing covers the start: the resolution reaching furthest back is used.
  auto forty = run(query_of("sensor-1", kTemperature, now - 40 * kDay, now, kHour));
  EXPECT_EQ(forty.resolution, Resolution::minute);
  EXPECT_EQ(forty.buckets.front().start_ms, now - 15 * kDay);  // what minute rollups still hold
  // Minute steps over the last 3 days: minute rollups.
  EXPECT_EQ(run(query_of("sensor-1", kTemperature, now - 3 * kDay, now, kMinute)).resolution, Resolution::minute);
  // Second steps can only use raw data, covered or not.
  EXPECT_EQ(run(query_of("sensor-1", kTemperature, now - kDay, now, kSecond)).resolution, Resolution::raw);
  EXPECT_EQ(run(query_of("sensor-1", kTemperature, now - 30 * kDay, now - 29 * kDay, kSecond)).resolution,
            Resolution::raw);
}

// The fleet's hour buckets are each device's own hourly query, read in one pass.
TEST_F(QueryTest, FleetHoursAreEachDevicesHourlyBuckets) {
  // bravo: a reading every 10 minutes for 5 hours from kT0 - 2 h (the range starts at kT0);
  // alpha: every 7 minutes for 3 hours from kT0 + 1 h, then a gap, then one reading at kT0 + 5 h;
  // charlie: humidity only; delta: temperature, but only before the range.
  commit_ok(store(), batch_of("bravo", sequence(1, 30, kT0 - 2 * kHour, 10 * kMinute)), kT0);
  auto alpha = sequence(1, 26, kT0 + kHour, 7 * kMinute);
  alpha.push_back(reading(27, kT0 + 5 * kHour + 5 * kMinute, -3.5));
  commit_ok(store(), batch_of("alpha", alpha), kT0);
  commit_ok(store(), batch_of("charlie", {reading(1, kT0 + kHour, std::nullopt, 55.0)}), kT0);
  commit_ok(store(), batch_of("delta", sequence(1, 3, kT0 - 3 * kHour, kMinute)), kT0);

  const FleetHoursQuery fleet_query{kTemperature, kT0, kT0 + 6 * kHour};
  auto fleet = store().fleet_hours(fleet_query);
  ASSERT_TRUE(fleet.ok()) << fleet.error().message;
  ASSERT_EQ(fleet->size(), 2u) << "charlie has no temperature, delta none in the range";
  EXPECT_EQ((*fleet)[0].device_id, "alpha");
  EXPECT_EQ((*fleet)[1].device_id, "bravo");
  for (const auto& device : *fleet) {
    const auto alone = run(query_of(device.device_id, kTemperature, kT0, kT0 + 6 * kHour, kHour));
    expect_same_buckets(device.buckets, alone.buckets, device.device_id);
  }
  ASSERT_EQ((*fleet)[0].buckets.size(), 4u) << "hours 1, 2, 3 and 5";
  EXPECT_EQ((*fleet)[0].buckets.back().start_ms, kT0 + 5 * kHour);
  EXPECT_EQ((*fleet)[0].buckets.back().mean, -3.5);
  ASSERT_EQ((*fleet)[1].buckets.size(), 3u) << "hours 0, 1 and 2";
  EXPECT_EQ((*fleet)[1].buckets.front().count, 6u);

  auto humidity = store().fleet_hours({kHumidity, kT0, kT0 + 6 * kHour});
  ASSERT_TRUE(humidity.ok()) << humidity.error().message;
  ASSERT_EQ(humidity->size(), 1u);
  EXPECT_EQ((*humidity)[0].device_id, "charlie");
  EXPECT_EQ((*humidity)[0].buckets.at(0).mean, 55.0);
}

TEST_F(QueryTest, AFleetQueryMustCoverWholeHoursAndAtMostAMonth) {
  for (const auto& [query, why] : std::vector<std::pair<FleetHoursQuery, std::string>>{
           {{kTemperature, kT0 + kMinute, kT0 + kHour}, "start not on an hour"},
           {{kTemperature, kT0, kT0 + kHour + 1}, "end not on an hour"},
           {{kTemperature, kT0, kT0}, "empty"},
           {{kTemperature, kT0 + kHour, kT0}, "reversed"},
           {{kTemperature, kT0, kT0 + kMaxFleetHoursSpanMs + kHour}, "longer than a month"}}) {
    auto result = store().fleet_hours(query);
    ASSERT_FALSE(result.ok()) << why;
    EXPECT_EQ(result.error().code, Errc::invalid_argument) << why;
  }
  auto longest = store().fleet_hours({kTemperature, kT0, kT0 + kMaxFleetHoursSpanMs});
  ASSERT_TRUE(longest.ok()) << longest.error().message;
  EXPECT_TRUE(longest->empty()) << "an empty store has no device";
}

TEST(AggregateNames, RoundTripAndSelectTheirStatistic) {
  for (Aggregate aggregate : {Aggregate::mean, Aggregate::min, Aggregate::max, Aggregate::count, Aggregate::last}) {
    EXPECT_EQ(parse_aggregate(to_string(aggregate)), aggregate);
  }
  EXPECT_EQ(parse_aggregate("median"), std::nullopt);
  for (Resolution resolution : {Resolution::raw, Resolution::minute, Resolution::hour}) {
    EXPECT_EQ(parse_resolution(to_string(resolution)), resolution);
  }
  EXPECT_EQ(parse_resolution("day"), std::nullopt);
  const Bucket bucket{0, 1.0, 3.0, 2.0, 4, 2.5};
  EXPECT_EQ(value_of(bucket, Aggregate::min), 1.0);
  EXPECT_EQ(value_of(bucket, Aggregate::max), 3.0);
  EXPECT_EQ(value_of(bucket, Aggregate::mean), 2.0);
  EXPECT_EQ(value_of(bucket, Aggregate::count), 4.0);
  EXPECT_EQ(value_of(bucket, Aggregate::last), 2.5);
}

}  // namespace
}  // namespace kelvin::store
