// Rollups folded from the readings after their commit (rollups.cpp): an answer is the same before
// and after the fold, nothing is lost when the store closes before it, and what else writes
// readings or rollups (withdrawal, retention) keeps the count right.

#include <gtest/gtest.h>

#include "store_test_support.hpp"

namespace kelvin::store {
namespace {

using namespace kelvin::store::testing;

constexpr proto::Quantity kTemperature = proto::Quantity::temperature;

class RollupsTest : public StoreFixture {
 protected:
  // How many committed readings the rollups do not hold yet.
  std::int64_t unrolled() {
    RawDatabase raw(path());
    return raw.integer("SELECT value FROM counters WHERE name = 'export_position'") -
           raw.integer("SELECT value FROM counters WHERE name = 'rollup_position'");
  }

  // The readings the minute and hour rollups of sensor-1's temperature count (from the table).
  std::int64_t rolled_up(std::int64_t width_ms) {
    return RawDatabase(path()).integer(
        "SELECT coalesce(sum(value_count), 0) FROM rollups JOIN series ON series.id = rollups.series"
        " WHERE series.quantity = 'temperature' AND width_ms = " +
        std::to_string(width_ms));
  }

  std::vector<Bucket> buckets(Resolution resolution, std::int64_t step_ms, const std::string& device = "sensor-1") {
    auto answer = store().query(query_of(device, kTemperature, kT0, kT0 + 2 * kHour, step_ms, resolution));
    EXPECT_TRUE(answer.ok()) << answer.error().message;
    return answer.ok() ? answer->buckets : std::vector<Bucket>{};
  }

  std::vector<DeviceBuckets> fleet() {
    auto answer = store().fleet_hours(FleetHoursQuery{kTemperature, kT0, kT0 + 2 * kHour});
    EXPECT_TRUE(answer.ok()) << answer.error().message;
    return answer.ok() ? *answer : std::vector<DeviceBuckets>{};
  }
};

TEST_F(RollupsTest, AnswersAreTheSameBeforeAndAfterTheFold) {
  // The first commit folds; the next ones, within a second of it, do not. Readings span two hours
  // and two devices, so rolled-up and unrolled readings share buckets.
  commit_ok(store(), batch_of("sensor-1", sequence(1, 60, kT0, kMinute)), kT0);
  commit_ok(store(), batch_of("sensor-1", sequence(61, 90, kT0 + 30 * kMinute, 2 * kMinute)), kT0 + 10);
  commit_ok(store(), batch_of("sensor-2", sequence(1, 5, kT0 + 90 * kMinute, kMinute)), kT0 + 20);
  ASSERT_EQ(unrolled(), 35) << "the later commits folded: the test shows nothing";

  const auto raw_minutes = buckets(Resolution::raw, kMinute);
  const auto raw_hours = buckets(Resolution::raw, kHour);
  ASSERT_EQ(raw_hours.size(), 2u);
  ASSERT_EQ(raw_hours[0].count + raw_hours[1].count, 90u);
  const auto minutes = buckets(Resolution::minute, kMinute);
  const auto hours = buckets(Resolution::hour, kHour);
  const auto fleet_before = fleet();
  expect_same_buckets(minutes, raw_minutes, "minute rollups before the fold");
  expect_same_buckets(hours, raw_hours, "hour rollups before the fold");
  ASSERT_EQ(fleet_before.size(), 2u);
  expect_same_buckets(fleet_before[0].buckets, raw_hours, "the fleet's sensor-1 before the fold");
  expect_same_buckets(fleet_before[1].buckets, buckets(Resolution::raw, kHour, "sensor-2"), "the fleet's sensor-2");

  // A second later the next commit folds everything, its own readings included.
  commit_ok(store(), batch_of("sensor-2", sequence(6, 6, kT0 + 95 * kMinute)), kT0 + 1'020);
  EXPECT_EQ(unrolled(), 0);
  EXPECT_EQ(rolled_up(kMinute), 96);
  EXPECT_EQ(rolled_up(kHour), 96);
  expect_same_buckets(buckets(Resolution::minute, kMinute), minutes, "minute rollups after the fold");
  expect_same_buckets(buckets(Resolution::hour, kHour), hours, "hour rollups after the fold");
  const auto fleet_after = fleet();
  ASSERT_EQ(fleet_after.size(), 2u);
  expect_same_buckets(fleet_after[0].buckets, fleet_before[0].buckets, "the fleet's sensor-1 after the fold");
  EXPECT_EQ(fleet_after[1].buckets.back().count, fleet_before[1].buckets.back().count + 1);
}

TEST_F(RollupsTest, ReadingsNotFoldedWhenTheStoreClosesAreFoldedByTheNextCommitAfterItOpens) {
  commit_ok(store(), batch_of("sensor-1", sequence(1, 10, kT0)), kT0);
  commit_ok(store(), batch_of("sensor-1", sequence(11, 20, kT0 + 10 * kSecond)), kT0 + 10);
  ASSERT_EQ(unrolled(), 10);
  const auto hours = buckets(Resolution::hour, kHour);
  ASSERT_EQ(hours.size(), 1u);
  EXPECT_EQ(hours[0].count, 20u);

  // Nothing is held in memory: another connection, as after a crash, answers the same and folds.
  reopen(StoreOptions{});
  expect_same_buckets(buckets(Resolution::hour, kHour), hours, "after reopening");
  commit_ok(store(), batch_of("sensor-1", sequence(21, 21, kT0 + 30 * kSecond)), kT0 + 20);
  EXPECT_EQ(unrolled(), 0);
  EXPECT_EQ(rolled_up(kHour), 21);
}

TEST_F(RollupsTest, ManyReadingsFoldWithinTheInterval) {
  commit_ok(store(), batch_of("sensor-1", sequence(1, 1, kT0)), kT0);
  // 20,000 readings behind the rollups make a fold due however little time passed.
  commit_ok(store(), batch_of("sensor-1", sequence(2, 20'001, kT0, 10)), kT0 + 1);
  EXPECT_EQ(unrolled(), 0);
  commit_ok(store(), batch_of("sensor-1", sequence(20'002, 20'010, kT0 + kHour, 10)), kT0 + 2);
  EXPECT_EQ(unrolled(), 9) << "a few readings wait for the interval";
}

TEST_F(RollupsTest, AnIntervalOfZeroFoldsInEveryCommit) {
  StoreOptions options;
  options.rollup_fold_interval_ms = 0;
  reopen(options);
  commit_ok(store(), batch_of("sensor-1", sequence(1, 10, kT0)), kT0);
  commit_ok(store(), batch_of("sensor-1", sequence(11, 20, kT0)), kT0);
  EXPECT_EQ(unrolled(), 0);
  EXPECT_EQ(rolled_up(kMinute), 20);
}

TEST_F(RollupsTest, AWithdrawalAmongUnfoldedReadingsCountsEachRemainingReadingOnce) {
  commit_ok(store(), batch_of("sensor-1", sequence(1, 5, kT0, kSecond)), kT0);
  commit_ok(store(), batch_of("sensor-1", sequence(6, 10, kT0 + 5 * kSecond, kSecond)), kT0 + 10);
  ASSERT_EQ(unrolled(), 5);

  IngestBatch withdraw;
  withdraw.elsewhere.push_back(ConsumedRange{"sensor-1", 7, 8, true});
  const CommitSummary summary = commit_ok(store(), withdraw, kT0 + 20);
  EXPECT_EQ(summary.withdrawn, 2u);
  const auto minutes = buckets(Resolution::minute, kMinute);
  ASSERT_EQ(minutes.size(), 1u);
  EXPECT_EQ(minutes[0].count, 8u);
  expect_same_buckets(minutes, buckets(Resolution::raw, kMinute), "minute rollups after the withdrawal");
  EXPECT_EQ(rolled_up(kMinute), 8);
}

TEST_F(RollupsTest, RetentionFoldsBeforeItDeletesReadings) {
  StoreOptions options;
  options.retention.raw_days = 30;
  reopen(options);
  commit_ok(store(), batch_of("sensor-1", sequence(1, 5, kT0, kSecond)), kT0);
  commit_ok(store(), batch_of("sensor-1", sequence(6, 10, kT0 + 5 * kSecond, kSecond)), kT0 + 10);
  ASSERT_EQ(unrolled(), 5);

  auto report = store().apply_retention(kT0 + 40 * kDay);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->raw_deleted, 10u);
  EXPECT_EQ(unrolled(), 0);
  EXPECT_EQ(rolled_up(kMinute), 10) << "readings went before the rollups held them";
}

}  // namespace
}  // namespace kelvin::store
