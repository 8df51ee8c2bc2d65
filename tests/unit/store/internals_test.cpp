// Internal building blocks with rules worth pinning down on their own: the pending-seq runs behind
// the ack, bucket alignment, and the query planner's choice of resolution.

#include <gtest/gtest.h>

#include <limits>

#include "buckets.hpp"
#include "query_plan.hpp"
#include "seq_intervals.hpp"
#include "store_test_support.hpp"

namespace kelvin::store {
namespace {

using namespace kelvin::store::testing;

TEST(SeqIntervals, MergesAdjacentSeqsIntoRuns) {
  SeqIntervals pending;
  for (std::uint64_t seq : {5u, 7u, 6u, 10u, 9u}) pending.insert(seq);
  EXPECT_EQ(pending.run_count(), 2u);  // 5..7 and 9..10
  EXPECT_TRUE(pending.contains(5));
  EXPECT_TRUE(pending.contains(6));
  EXPECT_TRUE(pending.contains(10));
  EXPECT_FALSE(pending.contains(8));
  EXPECT_FALSE(pending.contains(4));
  EXPECT_FALSE(pending.contains(11));
  pending.insert(8);
  EXPECT_EQ(pending.run_count(), 1u);
  pending.insert(6);  // already there
  EXPECT_EQ(pending.run_count(), 1u);
}

TEST(SeqIntervals, AdvanceConsumesOnlyTheContiguousRun) {
  SeqIntervals pending;
  for (std::uint64_t seq = 3; seq <= 200; ++seq) pending.insert(seq);
  pending.insert(300);
  EXPECT_EQ(pending.run_count(), 2u);
  EXPECT_EQ(pending.advance(1), 1u);  // 2 is missing
  EXPECT_EQ(pending.advance(2), 200u);
  EXPECT_EQ(pending.run_count(), 1u);
  EXPECT_FALSE(pending.contains(150));
  EXPECT_TRUE(pending.contains(300));
  EXPECT_EQ(pending.advance(299), 300u);
  EXPECT_TRUE(pending.empty());
}

TEST(SeqIntervals, HighestIsTheEndOfTheLastRunAndZeroWhenEmpty) {
  SeqIntervals pending;
  EXPECT_EQ(pending.highest(), 0u);
  pending.insert_range(10, 12);
  pending.insert(4);
  EXPECT_EQ(pending.highest(), 12u);
  EXPECT_EQ(pending.advance(3), 4u);
  EXPECT_EQ(pending.highest(), 12u);
  EXPECT_EQ(pending.advance(9), 12u);
  EXPECT_EQ(pending.highest(), 0u);
}

TEST(Buckets, AlignDownFloorsAlsoBeforeTheEpoch) {
  EXPECT_EQ(align_down(kT0 + 59'999, kMinute), kT0);
  EXPECT_EQ(align_down(kT0 + 60'000, kMinute), kT0 + kMinute);
  EXPECT_EQ(align_down(-1, kMinute), -kMinute);
  EXPECT_EQ(align_down(-kMinute, kMinute), -kMinute);
  EXPECT_EQ(align_down(std::numeric_limits<std::int64_t>::min(), kMinute), std::nullopt);
}

TEST(Buckets, StatsMergeKeepsTheLastByTimestampThenSeq) {
  BucketStats stats;
  stats.add(100, 1, 5.0);
  stats.add(50, 2, 1.0);
  stats.add(100, 3, 7.0);  // same time, later seq: wins
  BucketStats other;
  other.add(90, 9, -2.0);
  stats.merge(other);
  const Bucket bucket = stats.to_bucket(0);
  EXPECT_EQ(bucket.count, 4u);
  EXPECT_EQ(bucket.min, -2.0);
  EXPECT_EQ(bucket.max, 7.0);
  EXPECT_DOUBLE_EQ(bucket.mean, 11.0 / 4.0);
  EXPECT_EQ(bucket.last, 7.0);
}

Query plain(std::int64_t from, std::int64_t to, std::int64_t step) {
  return query_of("sensor-1", proto::Quantity::temperature, from, to, step);
}

TEST(QueryPlan, WidensTheRangeToWholeSteps) {
  auto plan = plan_query(plain(kT0 + 90 * kSecond, kT0 + 10 * kMinute + 1, 5 * kMinute), RetentionHorizons{});
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->start_ms, kT0);
  EXPECT_EQ(plan->end_ms, kT0 + 15 * kMinute);
  EXPECT_EQ(plan->resolution, Resolution::minute);
}

TEST(QueryPlan, PicksTheCoarsestCoveringResolutionThenFinerThenTheBestAvailable) {
  const std::int64_t now = kT0 + 100 * kDay;
  RetentionHorizons horizons;
  horizons.raw_ms = now - 30 * kDay;
  horizons.minute_ms = now - 7 * kDay;
  horizons.hour_ms = now - 3 * kDay;
  auto resolution = [&](std::int64_t from, std::int64_t step) {
    auto plan = plan_query(plain(from, now, step), horizons);
    EXPECT_TRUE(plan.ok());
    return plan.ok() ? plan->resolution : Resolution::raw;
  };
  EXPECT_EQ(resolution(now - 2 * kDay, kHour), Resolution::hour);
  EXPECT_EQ(resolution(now - 5 * kDay, kHour), Resolution::minute);
  EXPECT_EQ(resolution(now - 20 * kDay, kHour), Resolution::raw);  // only raw reaches back that far
  EXPECT_EQ(resolution(now - 60 * kDay, kHour), Resolution::raw);  // nothing covers; raw reaches furthest
  EXPECT_EQ(resolution(now - 20 * kDay, kMinute), Resolution::raw);
  EXPECT_EQ(resolution(now - 2 * kDay, kMinute), Resolution::minute);

  horizons.raw_ms = now - 1 * kDay;  // now hour rollups reach furthest back
  horizons.minute_ms = now - 2 * kDay;
  EXPECT_EQ(resolution(now - 60 * kDay, kHour), Resolution::hour);
  EXPECT_EQ(resolution(now - 60 * kDay, kMinute), Resolution::minute);
}

TEST(QueryPlan, ForcedResolutionIgnoresRetentionButMustDivideTheStep) {
  RetentionHorizons horizons;
  horizons.raw_ms = kT0 + kDay;
  auto forced =
      plan_query(query_of("s", proto::Quantity::temperature, kT0, kT0 + kHour, kMinute, Resolution::raw), horizons);
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(forced->resolution, Resolution::raw);
  auto mismatched = plan_query(
      query_of("s", proto::Quantity::temperature, kT0, kT0 + kHour, 30 * kMinute, Resolution::hour), horizons);
  ASSERT_FALSE(mismatched.ok());
  EXPECT_EQ(mismatched.error().code, Errc::invalid_argument);
}

TEST(QueryPlan, BucketLimitIsOnStepsInTheRange) {
  EXPECT_TRUE(plan_query(plain(0, kMaxQueryBuckets, 1), RetentionHorizons{}).ok());
  EXPECT_FALSE(plan_query(plain(0, kMaxQueryBuckets + 1, 1), RetentionHorizons{}).ok());
  EXPECT_TRUE(plan_query(plain(kT0, kT0 + 365 * kDay, kHour), RetentionHorizons{}).ok());  // 8,760 buckets
  EXPECT_FALSE(plan_query(plain(kT0, kT0 + 365 * kDay, kMinute), RetentionHorizons{}).ok());
}

}  // namespace
}  // namespace kelvin::store
