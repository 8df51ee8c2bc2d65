// Export log: readings in commit order with their values, cursors that survive reopening and
// only move forward, the backlog, and readings retention deleted before they were exported.

#include <gtest/gtest.h>

#include "kelvin/testing/temp_dir.hpp"
#include "store_test_support.hpp"

namespace kelvin::store {
namespace {

using kelvin::testing::TempDir;
using namespace kelvin::store::testing;

class ExportLogTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }
  void reopen() {
    store_.reset();
    auto opened = Store::open(tmp_ / "store.db");
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_.emplace(std::move(*opened));
  }
  Store& store() { return *store_; }

  ExportBatch read(std::uint64_t after, std::size_t max) {
    auto batch = store().read_export_batch(after, max);
    EXPECT_TRUE(batch.ok()) << batch.error().message;
    return batch.ok() ? std::move(*batch) : ExportBatch{};
  }

  TempDir tmp_;
  std::optional<Store> store_;
};

TEST_F(ExportLogTest, ReadingsComeInCommitOrderWithAllTheirValues) {
  commit_ok(store(), batch_of("sensor-b", {reading(1, kT0, 20.5, 40.0), reading(2, kT0 + kSecond, 21.0)}), kT0);
  commit_ok(store(), batch_of("sensor-a", {reading(7, kT0 - kHour, std::nullopt, 55.5)}), kT0 + kSecond);

  auto batch = read(0, 100);
  ASSERT_EQ(batch.readings.size(), 3u);
  EXPECT_EQ(batch.expired, 0u);
  EXPECT_EQ(batch.end_position, 3u);
  EXPECT_EQ(batch.readings[0].position, 1u);
  EXPECT_EQ(batch.readings[0].device_id, "sensor-b");
  EXPECT_EQ(batch.readings[0].reading, reading(1, kT0, 20.5, 40.0));
  EXPECT_EQ(batch.readings[1].reading, reading(2, kT0 + kSecond, 21.0));
  // Committed last although it was taken first: the log follows commits, not reading time.
  EXPECT_EQ(batch.readings[2].device_id, "sensor-a");
  EXPECT_EQ(batch.readings[2].reading, reading(7, kT0 - kHour, std::nullopt, 55.5));
}

TEST_F(ExportLogTest, BatchesPageThroughTheLogWithoutGapsOrRepeats) {
  commit_ok(store(), batch_of("sensor-1", sequence(1, 25, kT0)), kT0);
  std::vector<std::uint64_t> seqs;
  std::uint64_t cursor = 0;
  for (;;) {
    auto batch = read(cursor, 10);
    if (batch.readings.empty()) {
      EXPECT_EQ(batch.end_position, cursor) << "an empty batch leaves the position where it was";
      break;
    }
    EXPECT_LE(batch.readings.size(), 10u);
    for (const auto& exported : batch.readings) seqs.push_back(exported.reading.seq);
    cursor = batch.end_position;
  }
  ASSERT_EQ(seqs.size(), 25u);
  for (std::uint64_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], i + 1);
}

TEST_F(ExportLogTest, DuplicatesGetNoPositionAndPositionsAreNeverReused) {
  commit_ok(store(), batch_of("sensor-1", sequence(1, 3, kT0)), kT0);
  commit_ok(store(), batch_of("sensor-1", sequence(1, 3, kT0)), kT0);  // a resend: nothing stored
  EXPECT_EQ(read(0, 100).end_position, 3u);

  // Purging deletes the newest rows; the next reading must still get a new position, or an
  // exporter whose cursor is at 3 would never see it.
  ASSERT_TRUE(store().remove_device("sensor-1", /*purge_data=*/true).ok());
  commit_ok(store(), batch_of("sensor-2", sequence(1, 1, kT0)), kT0);
  auto batch = read(3, 100);
  ASSERT_EQ(batch.readings.size(), 1u);
  EXPECT_EQ(batch.readings[0].position, 4u);
  EXPECT_EQ(batch.readings[0].device_id, "sensor-2");
}

TEST_F(ExportLogTest, ACommitSaysThePositionsOfTheReadingsItStoredAndTheStoreItsLastPosition) {
  EXPECT_EQ(*store().last_export_position(), 0u);
  commit_ok(store(), batch_of("sensor-1", sequence(1, 2, kT0)), kT0);
  // Within one batch: a reading already stored, a second copy of one, and an unstorable one (seq
  // 0) get no position; the others take the next ones in batch order.
  IngestBatch mixed = batch_of(
      "sensor-1", {reading(2, kT0, 20.0), reading(3, kT0, 21.0), reading(3, kT0, 21.0), reading(0, kT0, 22.0)});
  mixed.readings.push_back({"sensor-2", reading(1, kT0, 23.0)});
  const CommitSummary summary = commit_ok(store(), mixed, kT0);
  EXPECT_EQ(summary.stored, 2u);
  EXPECT_EQ(summary.last_position, 4u);
  auto batch = read(2, 100);
  ASSERT_EQ(batch.readings.size(), 2u);
  EXPECT_EQ(batch.readings[0].position, 3u);
  EXPECT_EQ(batch.readings[0].reading.seq, 3u);
  EXPECT_EQ(batch.readings[1].position, 4u);
  EXPECT_EQ(batch.readings[1].device_id, "sensor-2");
  EXPECT_EQ(*store().last_export_position(), 4u);
  // Nothing stored: no position.
  EXPECT_EQ(commit_ok(store(), mixed, kT0).last_position, 0u);
  // The last position outlives the readings: a purge does not take it back.
  ASSERT_TRUE(store().remove_device("sensor-2", /*purge_data=*/true).ok());
  EXPECT_EQ(*store().last_export_position(), 4u);
}

TEST_F(ExportLogTest, CursorPersistsAndNeverMovesBack) {
  EXPECT_EQ(*store().export_cursor("influxdb"), 0u);
  ASSERT_TRUE(store().advance_export_cursor("influxdb", 42, kT0).ok());
  ASSERT_TRUE(store().advance_export_cursor("influxdb", 17, kT0).ok());  // a stale writer
  ASSERT_TRUE(store().advance_export_cursor("other", 5, kT0).ok());
  reopen();
  EXPECT_EQ(*store().export_cursor("influxdb"), 42u);
  EXPECT_EQ(*store().export_cursor("other"), 5u);
  auto bad = store().export_cursor("no spaces allowed");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::invalid_argument);
}

TEST_F(ExportLogTest, BacklogCountsReadingsAfterTheCursorAndWhenTheOldestWasCommitted) {
  auto empty = store().export_backlog(0);
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_EQ(empty->readings, 0u);
  EXPECT_FALSE(empty->oldest_committed_ms.has_value());

  commit_ok(store(), batch_of("sensor-1", sequence(1, 4, kT0)), kT0 + 10 * kSecond);
  commit_ok(store(), batch_of("sensor-1", sequence(5, 6, kT0)), kT0 + 20 * kSecond);
  auto backlog = store().export_backlog(4);
  ASSERT_TRUE(backlog.ok()) << backlog.error().message;
  EXPECT_EQ(backlog->readings, 2u);
  EXPECT_EQ(backlog->oldest_committed_ms, kT0 + 20 * kSecond);
  EXPECT_EQ(store().export_backlog(6)->readings, 0u);
}

TEST_F(ExportLogTest, ReadingsWhoseSamplesRetentionDeletedAreCountedAsExpired) {
  // Seq 1 never arrives, so seqs 2 and 3 stay above the ack and retention keeps their readings
  // rows (they let the ack advance once the gap fills) while it deletes their 40-day-old samples.
  commit_ok(store(), batch_of("sensor-1", sequence(2, 3, kT0)), kT0);
  commit_ok(store(), batch_of("sensor-1", sequence(5, 6, kT0 + 40 * kDay)), kT0 + 40 * kDay);
  ASSERT_TRUE(store().apply_retention(kT0 + 45 * kDay).ok());

  auto batch = read(0, 100);
  EXPECT_EQ(batch.expired, 2u);
  ASSERT_EQ(batch.readings.size(), 2u);
  EXPECT_EQ(batch.readings[0].reading.seq, 5u);
  EXPECT_EQ(batch.readings[1].reading.seq, 6u);
  EXPECT_EQ(batch.end_position, 4u) << "the cursor may move past expired readings";
}

}  // namespace
}  // namespace kelvin::store
