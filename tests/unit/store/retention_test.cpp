// Retention: what goes, what stays, and that acks never move back.

#include <gtest/gtest.h>

#include "kelvin/testing/temp_dir.hpp"
#include "store_test_support.hpp"

namespace kelvin::store {
namespace {

using kelvin::testing::TempDir;
using namespace kelvin::store::testing;

constexpr proto::Quantity kTemperature = proto::Quantity::temperature;

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Store::open(path(), options());
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_.emplace(std::move(*opened));
  }
  virtual StoreOptions options() const { return StoreOptions{}; }  // raw 30 d, minute 365 d, hour forever
  std::filesystem::path path() const { return tmp_ / "store.db"; }
  Store& store() { return *store_; }

  RetentionReport retain(std::int64_t now_ms) {
    auto report = store().apply_retention(now_ms);
    EXPECT_TRUE(report.ok()) << report.error().message;
    return report.ok() ? *report : RetentionReport{};
  }

  std::vector<Bucket> buckets(std::int64_t from, std::int64_t to, std::int64_t step, Resolution force) {
    auto result = store().query(query_of("sensor-1", kTemperature, from, to, step, force));
    EXPECT_TRUE(result.ok()) << result.error().message;
    return result.ok() ? result->buckets : std::vector<Bucket>{};
  }

  TempDir tmp_;
  std::optional<Store> store_;
};

TEST_F(RetentionTest, DeletesOldRawReadingsAndCountsThemButKeepsRollups) {
  // Day 0: 3 readings with both quantities; day 40: 2 readings (temperature only).
  commit_ok(store(),
            batch_of("sensor-1", {reading(1, kT0, 20.0, 50.0), reading(2, kT0 + kSecond, 21.0, 51.0),
                                  reading(3, kT0 + kHour, 22.0, 52.0)}),
            kT0);
  commit_ok(store(), batch_of("sensor-1", sequence(4, 5, kT0 + 40 * kDay)), kT0 + 40 * kDay);

  auto report = retain(kT0 + 45 * kDay);
  EXPECT_EQ(report.raw_deleted, 3u);
  EXPECT_EQ(report.minute_deleted, 0u);
  EXPECT_EQ(report.hour_deleted, 0u);

  EXPECT_TRUE(buckets(kT0, kT0 + kDay, kMinute, Resolution::raw).empty());
  EXPECT_EQ(buckets(kT0 + 40 * kDay, kT0 + 41 * kDay, kMinute, Resolution::raw).size(), 1u);
  // The rollups of day 0 survive the raw deletion, values intact.
  auto hours = buckets(kT0, kT0 + kDay, kHour, Resolution::hour);
  ASSERT_EQ(hours.size(), 2u);
  EXPECT_EQ(hours[0].count, 2u);
  EXPECT_EQ(hours[0].min, 20.0);
  EXPECT_EQ(hours[0].max, 21.0);
  EXPECT_EQ(hours[1].last, 22.0);
  EXPECT_EQ(buckets(kT0, kT0 + kDay, kMinute, Resolution::minute).size(), 2u);

  // Nothing left to delete: a second run deletes nothing.
  auto again = retain(kT0 + 45 * kDay);
  EXPECT_EQ(again.raw_deleted, 0u);
}

TEST_F(RetentionTest, DeletesMinuteRollupsAfterAYearAndKeepsHourRollupsForever) {
  commit_ok(store(), batch_of("sensor-1", sequence(1, 3, kT0, kMinute)), kT0);  // 3 minute buckets, 1 hour bucket
  auto report = retain(kT0 + 400 * kDay);
  EXPECT_EQ(report.raw_deleted, 3u);
  EXPECT_EQ(report.minute_deleted, 3u);
  EXPECT_EQ(report.hour_deleted, 0u);
  auto hours = buckets(kT0, kT0 + kDay, kHour, Resolution::hour);
  ASSERT_EQ(hours.size(), 1u);
  EXPECT_EQ(hours[0].count, 3u);
}

TEST_F(RetentionTest, RollupBucketsGoOnlyOnceTheyEndBeforeTheCutoff) {
  commit_ok(store(), batch_of("sensor-1", {reading(1, kT0 + 10 * kSecond, 1.0), reading(2, kT0 + 70 * kSecond, 2.0)}),
            kT0);
  // Cutoff at kT0 + 1 min + 30 s: the bucket [kT0, kT0 + 1 min) ends before it, the next does not.
  auto report = retain(kT0 + 365 * kDay + kMinute + 30 * kSecond);
  EXPECT_EQ(report.minute_deleted, 1u);
  auto minutes = buckets(kT0, kT0 + kHour, kMinute, Resolution::minute);
  ASSERT_EQ(minutes.size(), 1u);
  EXPECT_EQ(minutes[0].start_ms, kT0 + kMinute);
}

TEST_F(RetentionTest, ResendOfADeletedReadingIsStillADuplicate) {
  commit_ok(store(), batch_of("sensor-1", sequence(1, 3, kT0)), kT0);
  auto report = retain(kT0 + 31 * kDay);
  ASSERT_EQ(report.raw_deleted, 3u);
  RawDatabase raw(path());
  EXPECT_EQ(raw.integer("SELECT count(*) FROM readings"), 0);  // identities at or below the ack go too

  auto resend = commit_ok(store(), batch_of("sensor-1", sequence(1, 3, kT0)), kT0 + 31 * kDay);
  EXPECT_EQ(resend.stored, 0u);
  EXPECT_EQ(resend.duplicates, 3u);
  EXPECT_EQ(ack_of(resend, "sensor-1"), 3u);
  EXPECT_TRUE(buckets(kT0, kT0 + kDay, kMinute, Resolution::raw).empty());
  auto hours = buckets(kT0, kT0 + kDay, kHour, Resolution::hour);
  ASSERT_EQ(hours.size(), 1u);
  EXPECT_EQ(hours[0].count, 3u);  // not counted twice
}

TEST_F(RetentionTest, ReadingsAboveAGapKeepTheirIdentitySoTheAckStillAdvances) {
  // seq 2 and 3 (stored) and 4 (rejected) wait above a gap at 1 for longer than raw retention.
  IngestBatch batch = batch_of("sensor-1", {reading(2, kT0 + kSecond, 20.0), reading(3, kT0 + 2 * kSecond, 20.0)});
  batch.rejected.push_back(rejection("sensor-1", 4, kT0));
  commit_ok(store(), batch, kT0);
  auto report = retain(kT0 + 31 * kDay);
  EXPECT_EQ(report.raw_deleted, 2u);
  {
    RawDatabase raw(path());
    EXPECT_EQ(raw.integer("SELECT count(*) FROM readings"), 2) << "the rows stay";
    EXPECT_EQ(raw.integer("SELECT count(*) FROM readings WHERE temperature IS NOT NULL OR humidity IS NOT NULL"), 0)
        << "their values go";
  }
  EXPECT_EQ(retain(kT0 + 31 * kDay).raw_deleted, 0u) << "values already gone are not counted again";

  // Also after a reopen (the identities come from the database, not from memory).
  store_.reset();
  auto reopened = Store::open(path(), options());
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  auto resend = commit_ok(*reopened, batch_of("sensor-1", {reading(3, kT0 + 2 * kSecond, 20.0)}), kT0 + 31 * kDay);
  EXPECT_EQ(resend.duplicates, 1u);
  auto filled = commit_ok(*reopened, batch_of("sensor-1", {reading(1, kT0, 20.0)}), kT0 + 31 * kDay);
  EXPECT_EQ(ack_of(filled, "sensor-1"), 4u);
}

TEST_F(RetentionTest, DeletesOldRejectionRecordsAtOrBelowTheAck) {
  IngestBatch batch = batch_of("sensor-1", {reading(1, kT0, 20.0)});
  batch.rejected.push_back(rejection("sensor-1", 2, kT0));
  batch.rejected.push_back(rejection("sensor-1", 5, kT0));  // above the gap at 3..4
  commit_ok(store(), batch, kT0);
  IngestBatch recent;
  recent.rejected.push_back(rejection("sensor-1", 3, kT0 + 40 * kDay));
  commit_ok(store(), recent, kT0 + 40 * kDay);

  retain(kT0 + 45 * kDay);
  RawDatabase raw(path());
  EXPECT_EQ(raw.integer("SELECT count(*) FROM rejected WHERE seq = 2"), 0);  // old, at or below the ack
  EXPECT_EQ(raw.integer("SELECT count(*) FROM rejected WHERE seq = 3"), 1);  // recent
  EXPECT_EQ(raw.integer("SELECT count(*) FROM rejected WHERE seq = 5"), 1);  // old but above the ack
  auto info = store().device("sensor-1");
  ASSERT_TRUE(info.ok() && info->has_value());
  EXPECT_EQ((*info)->rejected_total, 3u);  // a counter: retention does not lower it
  EXPECT_EQ((*info)->acked_seq, 3u);
}

TEST_F(RetentionTest, DeletesMoreThanOneChunk) {
  const std::uint64_t total = 10'050;  // more than one 10,000-row chunk
  for (std::uint64_t first = 1; first <= total; first += 500) {
    const std::uint64_t last = std::min(total, first + 499);
    commit_ok(store(), batch_of("sensor-1", sequence(first, last, kT0 + static_cast<std::int64_t>(first) * kSecond)),
              kT0);
  }
  auto report = retain(kT0 + 60 * kDay);
  EXPECT_EQ(report.raw_deleted, total);
  RawDatabase raw(path());
  EXPECT_EQ(raw.integer("SELECT count(*) FROM readings"), 0);
  auto acked = store().acked_seq("sensor-1");
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(*acked, total);
}

class KeepForeverTest : public RetentionTest {
 protected:
  StoreOptions options() const override { return StoreOptions{RetentionPolicy{0, 0, 0}, 5000}; }
};

TEST_F(KeepForeverTest, ZeroDaysKeepsEverything) {
  commit_ok(store(), batch_of("sensor-1", sequence(1, 3, kT0)), kT0);
  auto report = retain(kT0 + 10'000 * kDay);
  EXPECT_EQ(report.raw_deleted, 0u);
  EXPECT_EQ(report.minute_deleted, 0u);
  EXPECT_EQ(report.hour_deleted, 0u);
  EXPECT_EQ(buckets(kT0, kT0 + kDay, kMinute, Resolution::raw).size(), 1u);
}

class ShortHourRetentionTest : public RetentionTest {
 protected:
  StoreOptions options() const override { return StoreOptions{RetentionPolicy{1, 2, 3}, 5000}; }
};

TEST_F(ShortHourRetentionTest, EachResolutionFollowsItsOwnPolicy) {
  // One reading per day for 5 days: each adds 1 raw sample, 1 minute, 1 hour and 1 8-hour bucket.
  std::vector<proto::Reading> readings;
  for (std::uint64_t day = 0; day < 5; ++day)
    readings.push_back(reading(day + 1, kT0 + static_cast<std::int64_t>(day) * kDay, 20.0));
  commit_ok(store(), batch_of("sensor-1", readings), kT0 + 5 * kDay);
  // At day 5: raw keeps >= day 4, minute >= day 3, hour >= day 2.
  auto report = retain(kT0 + 5 * kDay);
  EXPECT_EQ(report.raw_deleted, 4u);
  EXPECT_EQ(report.minute_deleted, 3u);
  EXPECT_EQ(report.hour_deleted, 4u);  // the hour and the 8-hour buckets of days 0 and 1
  EXPECT_EQ(buckets(kT0, kT0 + 5 * kDay, 8 * kHour, Resolution::eight_hours).size(), 3u);
}

TEST(RetentionOptions, NegativeDaysAreRefusedAtOpen) {
  TempDir tmp;
  StoreOptions options;
  options.retention.raw_days = -1;
  auto opened = Store::open(tmp / "store.db", options);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, Errc::invalid_argument);
}

}  // namespace
}  // namespace kelvin::store
