#include "kelvin/device/batch.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <numeric>
#include <vector>

#include "test_readings.hpp"

namespace kelvin::device {
namespace {

using testing::decoded_seqs;
using testing::reading;

std::vector<proto::Reading> readings(std::uint64_t first, std::size_t count) {
  std::vector<proto::Reading> out;
  for (std::size_t i = 0; i < count; ++i) out.push_back(reading(first + i, 21.0 + 0.01 * static_cast<double>(i)));
  return out;
}

std::vector<std::uint64_t> iota(std::uint64_t first, std::size_t count) {
  std::vector<std::uint64_t> out(count);
  std::iota(out.begin(), out.end(), first);
  return out;
}

TEST(Batch, OneReadingIsStillABatch) {
  proto::Reading r;
  r.seq = 42;
  r.ts_ms = 1732200000123;
  r.set(proto::Quantity::temperature, 21.5);
  r.set(proto::Quantity::humidity, 40.2);
  auto batch = build_batch(std::vector<proto::Reading>{r}, BatchLimits{});
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->payload,
            R"({"batch":[{"seq":42,"ts":1732200000123,"values":{"temperature":21.5,"humidity":40.2}}]})");
  EXPECT_EQ(batch->first_seq, 42U);
  EXPECT_EQ(batch->last_seq, 42U);
  EXPECT_EQ(batch->readings, 1U);
}

TEST(Batch, NothingToSendIsNoBatch) {
  EXPECT_FALSE(build_batch(std::vector<proto::Reading>{}, BatchLimits{}));
}

TEST(Batch, StopsAtTheReadingLimit) {
  auto batch = build_batch(readings(10, 50), BatchLimits{.max_readings = 20});
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->readings, 20U);
  EXPECT_EQ(batch->first_seq, 10U);
  EXPECT_EQ(batch->last_seq, 29U);
  EXPECT_EQ(decoded_seqs(batch->payload), iota(10, 20));
}

TEST(Batch, FillsButNeverExceedsTheByteLimit) {
  const auto input = readings(1, 100);
  for (std::size_t limit : {256U, 300U, 1000U, 4096U}) {
    auto batch = build_batch(input, BatchLimits{.max_readings = 500, .max_payload_bytes = limit});
    ASSERT_TRUE(batch) << limit;
    EXPECT_LE(batch->payload.size(), limit);
    EXPECT_EQ(decoded_seqs(batch->payload), iota(1, batch->readings)) << limit;
    // Maximal: one more reading would not have fitted.
    auto one_more = build_batch(readings(1, batch->readings + 1), BatchLimits{.max_readings = 500});
    ASSERT_TRUE(one_more);
    EXPECT_GT(one_more->payload.size(), limit) << limit;
  }
}

TEST(Batch, ALimitOfExactlyThePayloadSizeFitsAndOneByteLessDoesNot) {
  const auto input = readings(1, 10);
  auto all = build_batch(input, BatchLimits{});
  ASSERT_TRUE(all);
  ASSERT_GE(all->payload.size(), kMinBatchPayloadBytes);
  const std::size_t exact = all->payload.size();
  auto fits = build_batch(input, BatchLimits{.max_payload_bytes = exact});
  ASSERT_TRUE(fits);
  EXPECT_EQ(fits->readings, 10U);
  auto short_by_one = build_batch(input, BatchLimits{.max_payload_bytes = exact - 1});
  ASSERT_TRUE(short_by_one);
  EXPECT_EQ(short_by_one->readings, 9U);
  EXPECT_LE(short_by_one->payload.size(), exact - 1);
  EXPECT_EQ(decoded_seqs(short_by_one->payload), iota(1, 9));
}

TEST(Batch, DefaultsFitAboutTwoHundredReadingsInSixteenKibibytes) {
  auto batch = build_batch(readings(1'000'000, 1000), BatchLimits{});
  ASSERT_TRUE(batch);
  EXPECT_LE(batch->payload.size(), 16U * 1024);
  EXPECT_GE(batch->readings, 150U);
  EXPECT_LE(batch->readings, 200U);
  EXPECT_EQ(decoded_seqs(batch->payload), iota(1'000'000, batch->readings));
}

TEST(Batch, TheLargestPossibleReadingFitsTheSmallestLimit) {
  proto::Reading worst;
  worst.seq = std::numeric_limits<std::uint64_t>::max();
  worst.ts_ms = std::numeric_limits<std::int64_t>::min();
  worst.set(proto::Quantity::temperature, -1.2345678901234567e-300);
  worst.set(proto::Quantity::humidity, -2.2250738585072014e-308);
  auto batch = build_batch(std::vector<proto::Reading>{worst, worst}, BatchLimits{.max_payload_bytes = 1});
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->readings, 1U);
  EXPECT_LE(batch->payload.size(), kMinBatchPayloadBytes);
}

TEST(Batch, LimitsAreClampedToWhatTheProtocolAllows) {
  EXPECT_EQ((BatchLimits{.max_readings = 0, .max_payload_bytes = 10}.effective().max_readings), 1U);
  EXPECT_EQ((BatchLimits{.max_readings = 0, .max_payload_bytes = 10}.effective().max_payload_bytes),
            kMinBatchPayloadBytes);
  EXPECT_EQ((BatchLimits{.max_readings = 10'000, .max_payload_bytes = 1 << 20}.effective().max_readings), 500U);
  EXPECT_EQ((BatchLimits{.max_readings = 10'000, .max_payload_bytes = 1 << 20}.effective().max_payload_bytes),
            16U * 1024);
  // A configured 1 MiB still yields payloads the gateway accepts.
  auto batch = build_batch(readings(1, 1000), BatchLimits{.max_readings = 10'000, .max_payload_bytes = 1 << 20});
  ASSERT_TRUE(batch);
  EXPECT_LE(batch->payload.size(), 16U * 1024);
}

TEST(BatchBuilder, RefusesAReadingThatDoesNotFitWithoutChangingThePayload) {
  BatchBuilder builder(BatchLimits{.max_readings = 2});
  EXPECT_TRUE(builder.empty());
  EXPECT_TRUE(builder.try_add(reading(1)));
  EXPECT_TRUE(builder.try_add(reading(2)));
  EXPECT_FALSE(builder.try_add(reading(3)));
  auto batch = std::move(builder).finish();
  ASSERT_TRUE(batch);
  EXPECT_EQ(decoded_seqs(batch->payload), (std::vector<std::uint64_t>{1, 2}));
}

}  // namespace
}  // namespace kelvin::device
