// Idempotent ingest and the ack watermark (docs/architecture.md, "Delivery guarantee").

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kelvin/testing/temp_dir.hpp"
#include "store_test_support.hpp"

namespace kelvin::store {
namespace {

using namespace kelvin::store::testing;

constexpr proto::Quantity kTemperature = proto::Quantity::temperature;
constexpr proto::Quantity kHumidity = proto::Quantity::humidity;

class IngestTest : public StoreFixture {
 protected:
  // Raw buckets of one minute over the first day after kT0.
  std::vector<Bucket> raw_minutes(const std::string& device, proto::Quantity quantity = kTemperature) {
    auto result = store().query(query_of(device, quantity, kT0, kT0 + kDay, kMinute, Resolution::raw));
    EXPECT_TRUE(result.ok()) << result.error().message;
    return result.ok() ? result->buckets : std::vector<Bucket>{};
  }
};

std::uint64_t total_count(const std::vector<Bucket>& buckets) {
  std::uint64_t count = 0;
  for (const auto& b : buckets) count += b.count;
  return count;
}

TEST_F(IngestTest, InOrderBatchIsStoredAndAcked) {
  auto summary = commit_ok(store(), batch_of("sensor-1", sequence(1, 200, kT0)), kT0 + kHour);
  EXPECT_EQ(summary.stored, 200u);
  EXPECT_EQ(summary.duplicates, 0u);
  ASSERT_EQ(summary.acks.size(), 1u);
  EXPECT_EQ(summary.acks[0].device_id, "sensor-1");
  EXPECT_EQ(summary.acks[0].contiguous_seq, 200u);

  auto acked = store().acked_seq("sensor-1");
  ASSERT_TRUE(acked.ok()) << acked.error().message;
  EXPECT_EQ(*acked, 200u);
  EXPECT_EQ(total_count(raw_minutes("sensor-1")), 200u);

  auto next = commit_ok(store(), batch_of("sensor-1", sequence(201, 250, kT0 + 200 * kSecond)), kT0 + kHour);
  EXPECT_EQ(next.stored, 50u);
  EXPECT_EQ(ack_of(next, "sensor-1"), 250u);
}

TEST_F(IngestTest, ResendIsCountedAsDuplicatesLeavesValuesAndRollupsAloneAndRepeatsTheAck) {
  commit_ok(store(), batch_of("sensor-1", sequence(1, 10, kT0)), kT0);
  auto before = raw_minutes("sensor-1");
  auto before_rollup = store().query(query_of("sensor-1", kTemperature, kT0, kT0 + kHour, kHour));
  ASSERT_TRUE(before_rollup.ok());
  ASSERT_EQ(before_rollup->resolution, Resolution::hour);

  // The resend carries different values: the stored ones must win (the first copy is the truth).
  auto resend = sequence(1, 10, kT0);
  for (auto& r : resend) r.set(kTemperature, 99.0);
  auto summary = commit_ok(store(), batch_of("sensor-1", resend), kT0 + kMinute);
  EXPECT_EQ(summary.stored, 0u);
  EXPECT_EQ(summary.duplicates, 10u);
  EXPECT_EQ(ack_of(summary, "sensor-1"), 10u);

  auto after = raw_minutes("sensor-1");
  ASSERT_EQ(after.size(), before.size());
  EXPECT_EQ(after[0].count, before[0].count);
  EXPECT_EQ(after[0].max, before[0].max);
  auto after_rollup = store().query(query_of("sensor-1", kTemperature, kT0, kT0 + kHour, kHour));
  ASSERT_TRUE(after_rollup.ok());
  ASSERT_EQ(after_rollup->buckets.size(), 1u);
  EXPECT_EQ(after_rollup->buckets[0].count, 10u);
  EXPECT_EQ(after_rollup->buckets[0].max, before_rollup->buckets[0].max);

  auto info = store().device("sensor-1");
  ASSERT_TRUE(info.ok() && info->has_value());
  EXPECT_EQ((*info)->readings_stored, 10u);
}

TEST_F(IngestTest, DuplicateWithinOneBatchIsStoredOnce) {
  auto readings = sequence(1, 3, kT0);
  readings.push_back(readings[1]);
  auto summary = commit_ok(store(), batch_of("sensor-1", readings), kT0);
  EXPECT_EQ(summary.stored, 3u);
  EXPECT_EQ(summary.duplicates, 1u);
  EXPECT_EQ(ack_of(summary, "sensor-1"), 3u);
  EXPECT_EQ(total_count(raw_minutes("sensor-1")), 3u);
}

TEST_F(IngestTest, GapHoldsTheAckUntilItFills) {
  auto first = commit_ok(store(), batch_of("sensor-1", sequence(1, 2, kT0)), kT0);
  EXPECT_EQ(ack_of(first, "sensor-1"), 2u);

  // 5 and 6 arrive before 3 and 4.
  auto ahead = commit_ok(store(), batch_of("sensor-1", sequence(5, 6, kT0 + 5 * kSecond)), kT0);
  EXPECT_EQ(ahead.stored, 2u);
  EXPECT_EQ(ack_of(ahead, "sensor-1"), 2u);
  auto acked = store().acked_seq("sensor-1");
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(*acked, 2u);

  // A resend of what is above the gap is a duplicate, and the ack still waits.
  auto resend = commit_ok(store(), batch_of("sensor-1", sequence(5, 6, kT0 + 5 * kSecond)), kT0);
  EXPECT_EQ(resend.duplicates, 2u);
  EXPECT_EQ(ack_of(resend, "sensor-1"), 2u);

  auto half = commit_ok(store(), batch_of("sensor-1", sequence(4, 4, kT0 + 4 * kSecond)), kT0);
  EXPECT_EQ(ack_of(half, "sensor-1"), 2u);
  auto filled = commit_ok(store(), batch_of("sensor-1", sequence(3, 3, kT0 + 3 * kSecond)), kT0);
  EXPECT_EQ(ack_of(filled, "sensor-1"), 6u);
  EXPECT_EQ(total_count(raw_minutes("sensor-1")), 6u);
}

TEST_F(IngestTest, ReversedBatchAcksEverything) {
  auto readings = sequence(1, 50, kT0);
  std::reverse(readings.begin(), readings.end());
  auto summary = commit_ok(store(), batch_of("sensor-1", readings), kT0);
  EXPECT_EQ(summary.stored, 50u);
  EXPECT_EQ(ack_of(summary, "sensor-1"), 50u);
}

TEST_F(IngestTest, RejectedSeqAdvancesTheAckAndIsRecordedOnce) {
  IngestBatch batch = batch_of("sensor-1", {reading(1, kT0, 20.0), reading(3, kT0 + 2 * kSecond, 20.5)});
  batch.rejected.push_back(rejection("sensor-1", 2, kT0 + kMinute));
  auto summary = commit_ok(store(), batch, kT0 + kMinute);
  EXPECT_EQ(summary.stored, 2u);
  EXPECT_EQ(summary.rejected_recorded, 1u);
  EXPECT_EQ(ack_of(summary, "sensor-1"), 3u);

  RawDatabase raw(path());
  EXPECT_EQ(raw.text("SELECT reason FROM rejected WHERE seq = 2"), "out_of_range");
  EXPECT_EQ(raw.integer("SELECT at_ms FROM rejected WHERE seq = 2"), kT0 + kMinute);

  // The same rejection again is not recorded twice; a valid reading with that seq is not stored.
  IngestBatch again;
  again.rejected.push_back(rejection("sensor-1", 2, kT0 + 2 * kMinute));
  again.readings.push_back(DeviceReading{"sensor-1", reading(2, kT0 + kSecond, 21.0)});
  auto repeated = commit_ok(store(), again, kT0 + 2 * kMinute);
  EXPECT_EQ(repeated.rejected_recorded, 0u);
  EXPECT_EQ(repeated.stored, 0u);
  EXPECT_EQ(repeated.duplicates, 1u);
  EXPECT_EQ(ack_of(repeated, "sensor-1"), 3u);
  EXPECT_EQ(total_count(raw_minutes("sensor-1")), 2u);

  auto info = store().device("sensor-1");
  ASSERT_TRUE(info.ok() && info->has_value());
  EXPECT_EQ((*info)->rejected_total, 1u);
}

TEST_F(IngestTest, RejectionAboveAGapWaitsLikeAReading) {
  IngestBatch batch;
  batch.rejected.push_back(rejection("sensor-1", 2, kT0));
  auto held = commit_ok(store(), batch, kT0);
  EXPECT_EQ(ack_of(held, "sensor-1"), 0u);  // seq 1 missing
  auto released = commit_ok(store(), batch_of("sensor-1", {reading(1, kT0, 20.0)}), kT0);
  EXPECT_EQ(ack_of(released, "sensor-1"), 2u);
}

TEST_F(IngestTest, EveryDeviceInTheBatchGetsItsAckInFirstSeenOrder) {
  IngestBatch batch = batch_of("b-device", sequence(1, 3, kT0));
  for (const auto& r : sequence(1, 2, kT0)) batch.readings.push_back(DeviceReading{"a-device", r});
  batch.rejected.push_back(rejection("c-device", 1, kT0));
  auto summary = commit_ok(store(), batch, kT0);
  ASSERT_EQ(summary.acks.size(), 3u);
  EXPECT_EQ(summary.acks[0].device_id, "b-device");
  EXPECT_EQ(summary.acks[0].contiguous_seq, 3u);
  EXPECT_EQ(summary.acks[1].device_id, "a-device");
  EXPECT_EQ(summary.acks[1].contiguous_seq, 2u);
  EXPECT_EQ(summary.acks[2].device_id, "c-device");
  EXPECT_EQ(summary.acks[2].contiguous_seq, 1u);

  // A batch of nothing but duplicates still answers with the acks.
  auto resend = commit_ok(store(), batch_of("a-device", sequence(1, 1, kT0)), kT0);
  ASSERT_EQ(resend.acks.size(), 1u);
  EXPECT_EQ(resend.acks[0].contiguous_seq, 2u);
}

TEST_F(IngestTest, EmptyBatchCommitsNothing) {
  auto summary = commit_ok(store(), IngestBatch{}, kT0);
  EXPECT_EQ(summary.stored, 0u);
  EXPECT_TRUE(summary.acks.empty());
  auto devices = store().list_devices();
  ASSERT_TRUE(devices.ok());
  EXPECT_TRUE(devices->empty());
}

TEST_F(IngestTest, ReadingWithBothQuantitiesFeedsBothSeries) {
  commit_ok(store(), batch_of("sensor-1", {reading(1, kT0, 21.5, 40.0), reading(2, kT0 + kSecond, std::nullopt, 41.0)}),
            kT0);
  auto temperature = raw_minutes("sensor-1", kTemperature);
  auto humidity = raw_minutes("sensor-1", kHumidity);
  ASSERT_EQ(temperature.size(), 1u);
  ASSERT_EQ(humidity.size(), 1u);
  EXPECT_EQ(temperature[0].count, 1u);
  EXPECT_EQ(temperature[0].last, 21.5);
  EXPECT_EQ(humidity[0].count, 2u);
  EXPECT_EQ(humidity[0].last, 41.0);
}

TEST_F(IngestTest, ProgressSurvivesReopenIncludingSeqsAboveAGap) {
  commit_ok(store(),
            batch_of("sensor-1",
                     {reading(1, kT0, 20.0), reading(2, kT0 + kSecond, 20.1), reading(4, kT0 + 3 * kSecond, 20.3)}),
            kT0);
  IngestBatch rejected;
  rejected.rejected.push_back(rejection("sensor-1", 5, kT0));
  commit_ok(store(), rejected, kT0);
  store_.reset();  // closes the connection

  auto reopened = Store::open(path());
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  auto acked = reopened->acked_seq("sensor-1");
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(*acked, 2u);

  // 4 (stored) and 5 (rejected) are known after the reopen: duplicates, and 3 releases both.
  auto resend = commit_ok(*reopened, batch_of("sensor-1", {reading(4, kT0 + 3 * kSecond, 20.3)}), kT0);
  EXPECT_EQ(resend.duplicates, 1u);
  auto filled = commit_ok(*reopened, batch_of("sensor-1", {reading(3, kT0 + 2 * kSecond, 20.2)}), kT0);
  EXPECT_EQ(filled.stored, 1u);
  EXPECT_EQ(ack_of(filled, "sensor-1"), 5u);

  auto data = reopened->query(query_of("sensor-1", kTemperature, kT0, kT0 + kMinute, kMinute, Resolution::raw));
  ASSERT_TRUE(data.ok());
  ASSERT_EQ(data->buckets.size(), 1u);
  EXPECT_EQ(data->buckets[0].count, 4u);
  EXPECT_DOUBLE_EQ(data->buckets[0].last, 20.3);
}

TEST_F(IngestTest, SeesWhatAnotherConnectionChanged) {
  commit_ok(store(), batch_of("sensor-1", sequence(1, 3, kT0)), kT0);  // this connection caches ack 3

  auto admin = Store::open(path());
  ASSERT_TRUE(admin.ok()) << admin.error().message;
  ASSERT_TRUE(admin->remove_device("sensor-1", true).ok());

  // The purge reset the device's progress: seq 1 is new again, not a duplicate of a stale cache.
  auto summary = commit_ok(store(), batch_of("sensor-1", sequence(1, 1, kT0)), kT0);
  EXPECT_EQ(summary.stored, 1u);
  EXPECT_EQ(ack_of(summary, "sensor-1"), 1u);
}

TEST_F(IngestTest, FailedCommitLeavesNoTraceInTheAck) {
  // A trigger (test-only, via a second connection) makes the third reading of the next batch fail,
  // after the first two readings were already inserted in the transaction.
  RawDatabase raw(path());
  raw.exec(
      "CREATE TRIGGER refuse_666 BEFORE INSERT ON readings WHEN NEW.temperature = 666"
      " BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END");
  commit_ok(store(), batch_of("sensor-1", sequence(1, 1, kT0)), kT0);

  auto failing = sequence(2, 4, kT0 + kSecond);
  failing[2].set(kTemperature, 666.0);
  auto failed = store().commit(batch_of("sensor-1", failing), kT0);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, Errc::conflict);
  EXPECT_NE(failed.error().message.find("refused by test trigger"), std::string::npos) << failed.error().message;
  auto acked = store().acked_seq("sensor-1");
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(*acked, 1u);

  // Seqs 2 and 3 were rolled back: the retry must store them, not call them duplicates.
  auto retry = commit_ok(store(), batch_of("sensor-1", sequence(2, 4, kT0 + kSecond)), kT0);
  EXPECT_EQ(retry.stored, 3u);
  EXPECT_EQ(retry.duplicates, 0u);
  EXPECT_EQ(ack_of(retry, "sensor-1"), 4u);
  EXPECT_EQ(total_count(raw_minutes("sensor-1")), 4u);
}

TEST_F(IngestTest, LockedDatabaseFailsTheCommitCleanlyAfterTheBusyTimeout) {
  StoreOptions impatient;
  impatient.busy_timeout_ms = 0;
  auto gateway = Store::open(path(), impatient);
  ASSERT_TRUE(gateway.ok()) << gateway.error().message;
  RawDatabase other(path());
  other.exec("BEGIN IMMEDIATE");  // another process holds the write lock
  auto blocked = gateway->commit(batch_of("sensor-1", sequence(1, 2, kT0)), kT0);
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.error().code, Errc::io);
  EXPECT_NE(blocked.error().message.find("locked"), std::string::npos) << blocked.error().message;
  other.exec("COMMIT");

  auto retried = commit_ok(*gateway, batch_of("sensor-1", sequence(1, 2, kT0)), kT0);
  EXPECT_EQ(retried.stored, 2u);
  EXPECT_EQ(ack_of(retried, "sensor-1"), 2u);
}

TEST_F(IngestTest, UnrepresentableItemsAreSkippedAndCountedWithoutSinkingTheBatch) {
  IngestBatch batch = batch_of("good", sequence(1, 2, kT0));
  batch.readings.push_back({"Bad/Id", reading(1, kT0, 20.0)});
  batch.readings.push_back({"svc-gateway", reading(1, kT0, 20.0)});
  batch.readings.push_back({"other", reading(0, kT0, 20.0)});
  batch.readings.push_back({"other", reading(std::uint64_t{1} << 63, kT0, 20.0)});  // the decoder lets this through
  batch.readings.push_back({"other", reading(1, kT0, std::numeric_limits<double>::quiet_NaN())});
  batch.readings.push_back({"other", reading(2, kT0, std::numeric_limits<double>::infinity())});
  batch.readings.push_back({"other", reading(3, kT0, std::nullopt)});
  batch.readings.push_back({"other", reading(4, -1, 20.0)});
  batch.rejected.push_back(rejection("other", 0, kT0));
  batch.rejected.push_back(rejection("other", std::uint64_t{1} << 63, kT0));
  batch.rejected.push_back(rejection("Bad/Id", 1, kT0));

  auto summary = commit_ok(store(), batch, kT0);
  EXPECT_EQ(summary.stored, 2u);
  EXPECT_EQ(summary.invalid, 11u);
  EXPECT_EQ(summary.rejected_recorded, 0u);
  // Well-formed devices get their acks, malformed ids none.
  ASSERT_EQ(summary.acks.size(), 2u);
  EXPECT_EQ(ack_of(summary, "good"), 2u);
  EXPECT_EQ(ack_of(summary, "other"), 0u);

  auto devices = store().list_devices();
  ASSERT_TRUE(devices.ok());
  ASSERT_EQ(devices->size(), 2u);
  EXPECT_EQ((*devices)[0].device_id, "good");
  EXPECT_EQ((*devices)[1].device_id, "other");
  EXPECT_EQ((*devices)[1].readings_stored, 0u);
  // "other" can still deliver seq 1..4 properly: nothing of the skipped items was consumed.
  auto later = commit_ok(store(), batch_of("other", sequence(1, 4, kT0)), kT0);
  EXPECT_EQ(later.stored, 4u);
  EXPECT_EQ(ack_of(later, "other"), 4u);
}

TEST_F(IngestTest, LargestRepresentableSeqIsAccepted) {
  const std::uint64_t largest = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  auto summary = commit_ok(store(), batch_of("sensor-1", {reading(largest, kT0, 20.0)}), kT0);
  EXPECT_EQ(summary.stored, 1u);
  EXPECT_EQ(ack_of(summary, "sensor-1"), 0u);
  auto resend = commit_ok(store(), batch_of("sensor-1", {reading(largest, kT0, 20.0)}), kT0);
  EXPECT_EQ(resend.duplicates, 1u);
}

TEST_F(IngestTest, AckedSeqOfUnknownDeviceIsZeroAndMalformedIdIsRefused) {
  auto unknown = store().acked_seq("never-seen");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(*unknown, 0u);
  auto malformed = store().acked_seq("../etc");
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().code, Errc::invalid_argument);
}

TEST_F(IngestTest, MovedFromStoreReportsAnErrorInsteadOfCrashing) {
  Store moved = std::move(store());
  auto result = store().acked_seq("sensor-1");  // NOLINT(bugprone-use-after-move): the point of the test
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Errc::invalid_argument);
  auto still = moved.acked_seq("sensor-1");
  EXPECT_TRUE(still.ok());
}

}  // namespace
}  // namespace kelvin::store

namespace kelvin::store {
namespace {

TEST_F(IngestTest, FloorGivesUpTheGapOfDroppedReadingsAndTheAckMovesOn) {
  // Seqs 1-2 and 5-6 arrived; 3-4 were dropped by the device's full outbox. It reports holding
  // nothing below 7 (oldest_seq), so 3-4 are given up and the ack passes them.
  IngestBatch first = batch_of("sensor-1", {reading(1, kT0, 20.0), reading(2, kT0 + kSecond, 20.1),
                                            reading(5, kT0 + 4 * kSecond, 20.4), reading(6, kT0 + 5 * kSecond, 20.5)});
  EXPECT_EQ(ack_of(commit_ok(store(), first, kT0 + kMinute), "sensor-1"), 2u);

  IngestBatch floor;
  floor.floors.push_back(SeqFloor{"sensor-1", 7});
  auto summary = commit_ok(store(), floor, kT0 + kMinute);
  EXPECT_EQ(summary.given_up, 2u);  // 3 and 4; 5 and 6 were stored
  EXPECT_EQ(ack_of(summary, "sensor-1"), 6u);

  // A lower or repeated floor changes nothing; a late arrival below it is a duplicate.
  floor.floors = {SeqFloor{"sensor-1", 3}, SeqFloor{"sensor-1", 7}};
  floor.readings.push_back(DeviceReading{"sensor-1", reading(3, kT0 + 2 * kSecond, 20.2)});
  auto again = commit_ok(store(), floor, kT0 + kMinute);
  EXPECT_EQ(again.given_up, 0u);
  EXPECT_EQ(again.duplicates, 1u);
  EXPECT_EQ(ack_of(again, "sensor-1"), 6u);
}

TEST_F(IngestTest, FloorAboveStoredReadingsCarriesTheAckOverThem) {
  IngestBatch batch = batch_of("sensor-1", {reading(4, kT0, 20.0), reading(5, kT0 + kSecond, 20.1)});
  batch.floors.push_back(SeqFloor{"sensor-1", 4});
  auto summary = commit_ok(store(), batch, kT0 + kMinute);
  EXPECT_EQ(summary.given_up, 3u);
  EXPECT_EQ(ack_of(summary, "sensor-1"), 5u);
}

// ---- Seqs consumed by another gateway sharing the broker (docs/scaling.md) ----

IngestBatch elsewhere(const std::string& device_id, std::uint64_t first, std::uint64_t last) {
  IngestBatch batch;
  batch.elsewhere.push_back(ConsumedRange{device_id, first, last});
  return batch;
}

TEST_F(IngestTest, RangesConsumedElsewhereFillGapsAndMakeReadingsDuplicates) {
  // This gateway stored 1-2 and 6; a peer stored 3-5 and 8.
  commit_ok(store(), batch_of("sensor-1", {reading(1, kT0, 20.0), reading(2, kT0 + kSecond, 20.1)}), kT0);
  auto above_gap = commit_ok(store(), batch_of("sensor-1", {reading(6, kT0 + 5 * kSecond, 20.5)}), kT0);
  EXPECT_EQ(ack_of(above_gap, "sensor-1"), 2u);

  auto peer = elsewhere("sensor-1", 3, 5);
  peer.elsewhere.push_back(ConsumedRange{"sensor-1", 8, 8});
  auto filled = commit_ok(store(), peer, kT0);
  EXPECT_EQ(ack_of(filled, "sensor-1"), 6u) << "3-5 from the peer join 1-2 and 6";

  // A resend of what the peer stored is not stored here; 7 arrives and the ack jumps over 8.
  auto resend =
      commit_ok(store(),
                batch_of("sensor-1", {reading(4, kT0 + 3 * kSecond, 20.3), reading(8, kT0 + 7 * kSecond, 20.7),
                                      reading(7, kT0 + 6 * kSecond, 20.6)}),
                kT0);
  EXPECT_EQ(resend.stored, 1u);
  EXPECT_EQ(resend.duplicates, 2u);
  EXPECT_EQ(ack_of(resend, "sensor-1"), 8u);
  EXPECT_EQ(total_count(raw_minutes("sensor-1")), 4u) << "1, 2, 6 and 7 are stored here, nothing else";
  auto device = store().device("sensor-1");
  ASSERT_TRUE(device.ok() && device->has_value());
  EXPECT_EQ((*device)->readings_stored, 4u);
  // Ranges the watermark passed are dropped from the table.
  RawDatabase raw(path());
  EXPECT_EQ(raw.integer("SELECT count(*) FROM consumed_elsewhere"), 0);
}

TEST_F(IngestTest, RangesConsumedElsewhereAboveAGapSurviveAReopen) {
  commit_ok(store(), batch_of("sensor-1", sequence(1, 2, kT0)), kT0);
  commit_ok(store(), elsewhere("sensor-1", 10, 20), kT0);
  RawDatabase raw(path());
  EXPECT_EQ(raw.integer("SELECT count(*) FROM consumed_elsewhere"), 1);
  reopen(StoreOptions{});

  auto resend = commit_ok(store(), batch_of("sensor-1", sequence(15, 15, kT0)), kT0);
  EXPECT_EQ(resend.duplicates, 1u) << "the peer's range was forgotten by the reopen";
  auto filled = commit_ok(store(), batch_of("sensor-1", sequence(3, 9, kT0)), kT0);
  EXPECT_EQ(ack_of(filled, "sensor-1"), 20u);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM consumed_elsewhere"), 0);
}

TEST_F(IngestTest, RangesAtOrBelowTheWatermarkChangeNothingAndInvalidOnesAreCounted) {
  commit_ok(store(), batch_of("sensor-1", sequence(1, 5, kT0)), kT0);
  IngestBatch batch = elsewhere("sensor-1", 1, 5);
  batch.elsewhere.push_back(ConsumedRange{"sensor-1", 0, 3});  // seq 0 does not exist
  batch.elsewhere.push_back(ConsumedRange{"sensor-1", 9, 7});  // reversed
  batch.elsewhere.push_back(ConsumedRange{"Not A Device!", 1, 2});
  auto summary = commit_ok(store(), batch, kT0);
  EXPECT_EQ(summary.invalid, 3u);
  EXPECT_EQ(ack_of(summary, "sensor-1"), 5u);
  RawDatabase raw(path());
  EXPECT_EQ(raw.integer("SELECT count(*) FROM consumed_elsewhere"), 0);
}

TEST_F(IngestTest, AFloorGivesUpOnlyWhatNobodyConsumed) {
  commit_ok(store(), batch_of("sensor-1", sequence(1, 2, kT0)), kT0);
  commit_ok(store(), elsewhere("sensor-1", 4, 6), kT0);
  IngestBatch floor;
  floor.floors.push_back(SeqFloor{"sensor-1", 9});  // the device holds nothing below 9 any more
  auto summary = commit_ok(store(), floor, kT0);
  EXPECT_EQ(summary.given_up, 1u) << "3 never arrived anywhere; 4-6 reached the peer";
  EXPECT_EQ(ack_of(summary, "sensor-1"), 6u) << "nothing above 6 arrived yet: 7 and 8 may still reach the peer";
  // The device's next reading shows it did send 7 and 8: they were lost.
  auto next = commit_ok(store(), batch_of("sensor-1", sequence(9, 9, kT0 + 8 * kSecond)), kT0);
  EXPECT_EQ(next.given_up, 2u);
  EXPECT_EQ(ack_of(next, "sensor-1"), 9u);
}

TEST_F(IngestTest, ConsumptionListsEachDevicesWatermarkAndRunsAbove) {
  commit_ok(store(),
            batch_of("sensor-1",
                     {reading(1, kT0, 20.0), reading(3, kT0 + 2 * kSecond, 20.2), reading(4, kT0 + 3 * kSecond, 20.3)}),
            kT0);
  IngestBatch more = elsewhere("sensor-1", 6, 9);
  more.rejected.push_back(rejection("sensor-1", 12, kT0));
  more.readings.push_back(DeviceReading{"sensor-2", reading(1, kT0, 19.0)});
  commit_ok(store(), more, kT0);

  auto consumption = store().consumption();
  ASSERT_TRUE(consumption.ok()) << consumption.error().message;
  ASSERT_EQ(consumption->size(), 2u);
  EXPECT_EQ((*consumption)[0].device_id, "sensor-1");
  EXPECT_EQ((*consumption)[0].watermark, 1u);
  EXPECT_EQ((*consumption)[0].above, (std::vector<SeqRun>{{3, 4}, {6, 9}, {12, 12}}));
  EXPECT_EQ((*consumption)[1].device_id, "sensor-2");
  EXPECT_EQ((*consumption)[1].watermark, 1u);
  EXPECT_TRUE((*consumption)[1].above.empty());
}

TEST_F(IngestTest, CommitAcksNameTheRunsNewlyStored) {
  commit_ok(store(), batch_of("sensor-1", sequence(1, 2, kT0)), kT0);
  auto summary = commit_ok(store(),
                           batch_of("sensor-1", {reading(2, kT0, 20.0), reading(5, kT0, 20.0), reading(3, kT0, 20.0),
                                                 reading(7, kT0, 20.0)}),
                           kT0);
  ASSERT_EQ(summary.acks.size(), 1u);
  EXPECT_EQ(summary.acks[0].stored, (std::vector<SeqRun>{{3, 3}, {5, 5}, {7, 7}})) << "2 was a duplicate";
}

TEST_F(IngestTest, WithdrawingOwnCopiesOfReadingsAPeerStoredRecomputesTheirBuckets) {
  // Five readings in one minute: 20.1 .. 20.5. The peer stored 2 and 5 too; this store gives way.
  commit_ok(store(), batch_of("sensor-1", sequence(1, 5, kT0)), kT0);
  IngestBatch peer;
  peer.elsewhere.push_back(ConsumedRange{"sensor-1", 2, 2, true});
  peer.elsewhere.push_back(ConsumedRange{"sensor-1", 5, 6, true});  // 6 was never stored here
  auto summary = commit_ok(store(), peer, kT0);
  EXPECT_EQ(summary.withdrawn, 2u);
  EXPECT_EQ(summary.duplicates_kept, 0u);
  EXPECT_EQ(ack_of(summary, "sensor-1"), 6u);

  auto raw = raw_minutes("sensor-1");
  ASSERT_EQ(raw.size(), 1u);
  EXPECT_EQ(raw[0].count, 3u);
  for (auto resolution : {Resolution::minute, Resolution::hour}) {
    const std::int64_t step = resolution == Resolution::minute ? kMinute : kHour;
    auto rolled = store().query(query_of("sensor-1", kTemperature, kT0, kT0 + step, step, resolution));
    ASSERT_TRUE(rolled.ok()) << rolled.error().message;
    ASSERT_EQ(rolled->buckets.size(), 1u);
    EXPECT_EQ(rolled->buckets[0].count, 3u);
    EXPECT_DOUBLE_EQ(rolled->buckets[0].min, 20.1);
    EXPECT_DOUBLE_EQ(rolled->buckets[0].max, 20.4) << "the withdrawn 20.5 was the maximum";
    EXPECT_DOUBLE_EQ(rolled->buckets[0].last, 20.4);
    EXPECT_DOUBLE_EQ(rolled->buckets[0].mean, (20.1 + 20.3 + 20.4) / 3);
  }
  auto device = store().device("sensor-1");
  ASSERT_TRUE(device.ok() && device->has_value());
  EXPECT_EQ((*device)->readings_stored, 3u);
  auto exported = store().read_export_batch(0, 100);
  ASSERT_TRUE(exported.ok());
  EXPECT_EQ(exported->readings.size(), 3u) << "the withdrawn readings are not exported from here";
  // A resend of a withdrawn reading is still a duplicate: the peer has it.
  auto resend = commit_ok(store(), batch_of("sensor-1", {reading(2, kT0 + kSecond, 20.2)}), kT0);
  EXPECT_EQ(resend.duplicates, 1u);
}

TEST_F(IngestTest, AWithdrawnReadingThatWasItsBucketsOnlyOneRemovesTheBucket) {
  commit_ok(store(), batch_of("sensor-1", {reading(1, kT0, 20.0), reading(2, kT0 + 2 * kHour, 21.0)}), kT0);
  IngestBatch peer;
  peer.elsewhere.push_back(ConsumedRange{"sensor-1", 2, 2, true});
  EXPECT_EQ(commit_ok(store(), peer, kT0).withdrawn, 1u);
  auto hours = store().query(query_of("sensor-1", kTemperature, kT0, kT0 + 3 * kHour, kHour, Resolution::hour));
  ASSERT_TRUE(hours.ok());
  ASSERT_EQ(hours->buckets.size(), 1u);
  EXPECT_EQ(hours->buckets[0].start_ms, kT0);
}

TEST_F(IngestTest, ACopyWhoseSamplesRetentionThinnedIsKeptAndCounted) {
  // Raw samples are kept one day. Seq 2 is two days old and waits above a gap (seq 1 never came),
  // so retention keeps its row (it holds the ack's place) but deletes its samples: its buckets can
  // no longer be recomputed without it. Seq 3 is recent.
  StoreOptions options;
  options.retention.raw_days = 1;
  reopen(options);
  commit_ok(store(), batch_of("sensor-1", {reading(2, kT0, 20.0), reading(3, kT0 + 2 * kDay, 21.0)}), kT0 + 2 * kDay);
  ASSERT_TRUE(store().apply_retention(kT0 + 2 * kDay).ok());
  IngestBatch peer;
  peer.elsewhere.push_back(ConsumedRange{"sensor-1", 2, 3, true});
  auto summary = commit_ok(store(), peer, kT0 + 2 * kDay);
  EXPECT_EQ(summary.withdrawn, 1u);
  EXPECT_EQ(summary.duplicates_kept, 1u);
  RawDatabase raw(path());
  EXPECT_EQ(raw.integer("SELECT count(*) FROM readings WHERE seq = 2"), 1);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM readings WHERE seq = 3"), 0);
}

}  // namespace
}  // namespace kelvin::store

// ---- A device's claim (status oldest_seq) gives up only seqs the device really sent ----

namespace kelvin::store {
namespace {

constexpr std::uint64_t kLargestSeq = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

IngestBatch claim(const std::string& device_id, std::uint64_t first_held_seq) {
  IngestBatch batch;
  batch.floors.push_back(SeqFloor{device_id, first_held_seq});
  return batch;
}

TEST_F(IngestTest, AClaimFromADeviceThatSentNothingGivesUpNothing) {
  // The attack: a device that never sent a reading claims it holds nothing below 2^63-1.
  auto claimed = commit_ok(store(), claim("sensor-1", kLargestSeq), kT0);
  EXPECT_EQ(claimed.given_up, 0u);
  EXPECT_EQ(ack_of(claimed, "sensor-1"), 0u);

  // Its readings are stored and acknowledged, not taken for duplicates of seqs it never sent.
  auto later = commit_ok(store(), batch_of("sensor-1", sequence(1, 3, kT0)), kT0 + kSecond);
  EXPECT_EQ(later.stored, 3u);
  EXPECT_EQ(later.duplicates, 0u);
  EXPECT_EQ(later.given_up, 0u);
  EXPECT_EQ(ack_of(later, "sensor-1"), 3u);
  auto acked = store().acked_seq("sensor-1");
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(*acked, 3u);
}

TEST_F(IngestTest, AClaimThatArrivesBeforeTheReadingsTakesEffectWhenTheyArrive) {
  // A device back after a long time offline: its outbox kept 594800.. and dropped 1001..594799.
  // Its status arrives before the resend of its outbox.
  commit_ok(store(), batch_of("sensor-1", sequence(1, 1000, kT0)), kT0);
  auto claimed = commit_ok(store(), claim("sensor-1", 594800), kT0 + kDay);
  EXPECT_EQ(claimed.given_up, 0u) << "nothing above 1000 arrived yet";
  EXPECT_EQ(ack_of(claimed, "sensor-1"), 1000u);

  // The resend, in a later commit and without another status.
  auto resent = commit_ok(store(), batch_of("sensor-1", sequence(594800, 594810, kT0 + kDay)), kT0 + kDay);
  EXPECT_EQ(resent.stored, 11u);
  EXPECT_EQ(resent.duplicates, 0u);
  EXPECT_EQ(resent.given_up, 594800u - 1001u);
  EXPECT_EQ(ack_of(resent, "sensor-1"), 594810u);
}

TEST_F(IngestTest, AClaimGivesUpNoSeqAboveTheHighestConsumed) {
  // Consumed: 1..2 stored here, 5 rejected, 8 stored here, 11..12 stored by a peer. Claim 20.
  IngestBatch batch = batch_of("sensor-1", {reading(1, kT0, 20.0), reading(2, kT0 + kSecond, 20.1)});
  batch.readings.push_back(DeviceReading{"sensor-1", reading(8, kT0 + 7 * kSecond, 20.7)});
  batch.rejected.push_back(rejection("sensor-1", 5, kT0));
  batch.elsewhere.push_back(ConsumedRange{"sensor-1", 11, 12});
  batch.floors.push_back(SeqFloor{"sensor-1", 20});
  auto summary = commit_ok(store(), batch, kT0);
  EXPECT_EQ(summary.given_up, 6u) << "3, 4, 6, 7, 9 and 10 never arrived; 13..19 may still";
  EXPECT_EQ(ack_of(summary, "sensor-1"), 12u);
  auto acked = store().acked_seq("sensor-1");
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(*acked, 12u);

  // 13 arrives and 15 after it; 14 never does: only what lies below both the claim and 15 goes.
  EXPECT_EQ(ack_of(commit_ok(store(), batch_of("sensor-1", sequence(13, 13, kT0)), kT0), "sensor-1"), 13u);
  auto next = commit_ok(store(), batch_of("sensor-1", sequence(15, 15, kT0)), kT0);
  EXPECT_EQ(next.given_up, 1u);
  EXPECT_EQ(ack_of(next, "sensor-1"), 15u);
}

TEST_F(IngestTest, AClaimIsKeptAcrossAReopen) {
  commit_ok(store(), batch_of("sensor-1", sequence(1, 1000, kT0)), kT0);
  commit_ok(store(), claim("sensor-1", 594800), kT0);
  RawDatabase raw(path());
  EXPECT_EQ(raw.integer("SELECT claimed_floor FROM devices WHERE name = 'sensor-1'"), 594800);
  reopen(StoreOptions{});

  auto resent = commit_ok(store(), batch_of("sensor-1", sequence(594800, 594810, kT0)), kT0);
  EXPECT_EQ(resent.given_up, 594800u - 1001u);
  EXPECT_EQ(ack_of(resent, "sensor-1"), 594810u);
}

TEST_F(IngestTest, AClaimIsReloadedWhenAnotherConnectionCommitted) {
  commit_ok(store(), batch_of("sensor-1", sequence(1, 10, kT0)), kT0);
  commit_ok(store(), claim("sensor-1", 100), kT0);
  // Another connection's commit makes this one drop its cached progress at the next commit.
  auto admin = Store::open(path());
  ASSERT_TRUE(admin.ok()) << admin.error().message;
  ASSERT_TRUE(admin->register_device("sensor-2", kT0).ok());

  auto resent = commit_ok(store(), batch_of("sensor-1", sequence(100, 105, kT0)), kT0);
  EXPECT_EQ(resent.given_up, 89u);  // 11..99
  EXPECT_EQ(ack_of(resent, "sensor-1"), 105u);
}

TEST_F(IngestTest, AClaimLowerThanOneHeldChangesNothing) {
  commit_ok(store(), batch_of("sensor-1", sequence(1, 5, kT0)), kT0);
  commit_ok(store(), claim("sensor-1", 20), kT0);
  IngestBatch lower = claim("sensor-1", 10);
  lower.floors.push_back(SeqFloor{"sensor-1", 0});  // not a seq: ignored
  auto ignored = commit_ok(store(), lower, kT0);
  EXPECT_EQ(ignored.given_up, 0u);
  EXPECT_EQ(ack_of(ignored, "sensor-1"), 5u);
  RawDatabase raw(path());
  EXPECT_EQ(raw.integer("SELECT claimed_floor FROM devices WHERE name = 'sensor-1'"), 20);

  // 25 arrives: everything below the held claim 20 that never came is given up, not just below 10.
  auto later = commit_ok(store(), batch_of("sensor-1", sequence(25, 25, kT0)), kT0);
  EXPECT_EQ(later.given_up, 14u);  // 6..19
  EXPECT_EQ(ack_of(later, "sensor-1"), 19u) << "20..24 are held by the device";
}

TEST_F(IngestTest, AClaimInAFailedCommitIsNotHeld) {
  // A trigger (test-only) fails the commit at its very end, when the device row is written: after
  // the claim was raised and applied in memory.
  RawDatabase raw(path());
  raw.exec(
      "CREATE TRIGGER refuse_claim BEFORE UPDATE OF claimed_floor ON devices WHEN NEW.claimed_floor = 50"
      " BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END");
  commit_ok(store(), batch_of("sensor-1", sequence(1, 1, kT0)), kT0);
  IngestBatch failing = batch_of("sensor-1", sequence(70, 70, kT0));
  failing.floors.push_back(SeqFloor{"sensor-1", 50});
  ASSERT_FALSE(store().commit(failing, kT0).ok());
  EXPECT_EQ(raw.integer("SELECT claimed_floor FROM devices WHERE name = 'sensor-1'"), 0);
  EXPECT_EQ(raw.integer("SELECT watermark FROM devices WHERE name = 'sensor-1'"), 1);

  auto later = commit_ok(store(), batch_of("sensor-1", sequence(60, 60, kT0)), kT0);
  EXPECT_EQ(later.given_up, 0u) << "the claim of the failed commit must not linger in memory";
  EXPECT_EQ(ack_of(later, "sensor-1"), 1u);
}

TEST_F(IngestTest, GivenUpSaturatesInsteadOfWrapping) {
  // Three devices that sent their largest seq and claim everything below it: each gives up
  // 2^63 - 2 seqs, together more than a 64-bit count holds. Claims above 2^63-1 act as 2^63-1.
  IngestBatch batch;
  const std::uint64_t claims[] = {kLargestSeq, kLargestSeq + 1, std::numeric_limits<std::uint64_t>::max()};
  const std::string devices[] = {"sensor-a", "sensor-b", "sensor-c"};
  for (std::size_t i = 0; i < 3; ++i) {
    batch.readings.push_back(DeviceReading{devices[i], reading(kLargestSeq, kT0, 20.0)});
    batch.floors.push_back(SeqFloor{devices[i], claims[i]});
  }
  auto summary = commit_ok(store(), batch, kT0);
  EXPECT_EQ(summary.stored, 3u);
  EXPECT_EQ(summary.given_up, std::numeric_limits<std::size_t>::max());
  for (const auto& device : devices) EXPECT_EQ(ack_of(summary, device), kLargestSeq) << device;

  // One such device alone is counted exactly.
  auto one = commit_ok(
      store(),
      [] {
        IngestBatch b = batch_of("sensor-d", {reading(kLargestSeq, kT0, 20.0)});
        b.floors.push_back(SeqFloor{"sensor-d", std::numeric_limits<std::uint64_t>::max()});
        return b;
      }(),
      kT0);
  EXPECT_EQ(one.given_up, kLargestSeq - 1);
  EXPECT_EQ(ack_of(one, "sensor-d"), kLargestSeq);
  RawDatabase raw(path());
  EXPECT_EQ(raw.integer("SELECT claimed_floor FROM devices WHERE name = 'sensor-d'"),
            std::numeric_limits<std::int64_t>::max());
}

}  // namespace
}  // namespace kelvin::store
