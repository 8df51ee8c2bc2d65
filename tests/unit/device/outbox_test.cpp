#include "kelvin/device/outbox.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kelvin/device/memory_outbox_journal.hpp"
#include "test_readings.hpp"

namespace kelvin::device {
namespace {

using testing::kTs;
using testing::reading;
using testing::values;

std::vector<std::uint64_t> seqs(Outbox::PendingRange range) {
  std::vector<std::uint64_t> out;
  for (const auto& r : range) out.push_back(r.seq);
  return out;
}

std::vector<std::uint64_t> seqs(const std::vector<proto::Reading>& readings) {
  std::vector<std::uint64_t> out;
  for (const auto& r : readings) out.push_back(r.seq);
  return out;
}

TEST(Outbox, AssignsIncreasingSeqsFromOneAndRecordsEachReading) {
  MemoryOutboxJournal journal;
  Outbox outbox(journal, {}, 100);
  for (std::uint64_t expected = 1; expected <= 3; ++expected) {
    auto seq = outbox.add(kTs + static_cast<std::int64_t>(expected), values(20.0, 40.0));
    ASSERT_TRUE(seq) << seq.error().message;
    EXPECT_EQ(*seq, expected);
  }
  EXPECT_EQ(outbox.next_seq(), 4U);
  EXPECT_EQ(outbox.last_seq(), 3U);
  EXPECT_EQ(outbox.pending_count(), 3U);
  EXPECT_EQ(journal.readings_recorded(), 3U);
  auto snapshot = journal.snapshot();
  EXPECT_EQ(snapshot.next_seq, 4U);
  ASSERT_EQ(snapshot.pending.size(), 3U);
  EXPECT_EQ(snapshot.pending[2].ts_ms, kTs + 3);
  EXPECT_EQ(snapshot.pending[2].value(proto::Quantity::temperature), 20.0);
}

TEST(Outbox, RefusesReadingsTheGatewayWouldRefuseWithoutUsingASeq) {
  MemoryOutboxJournal journal;
  Outbox outbox(journal, {}, 100);
  SensorValues none{};
  SensorValues nan = values(std::nan(""), 40.0);
  SensorValues infinite = values(20.0, std::numeric_limits<double>::infinity());
  SensorValues too_hot = values(125.5, 40.0);
  SensorValues too_wet = values(20.0, 100.5);
  for (const auto* v : {&none, &nan, &infinite, &too_hot, &too_wet}) {
    auto r = outbox.add(kTs, *v);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
  }
  auto unset_clock = outbox.add(1'000, values(20.0, 40.0));  // 1970: the clock was never set
  ASSERT_FALSE(unset_clock);
  EXPECT_EQ(unset_clock.error().code, Errc::invalid_argument);
  EXPECT_EQ(journal.readings_recorded(), 0U);

  SensorValues temperature_only{};
  temperature_only[static_cast<std::size_t>(proto::Quantity::temperature)] = -55.0;
  auto ok = outbox.add(kTs, temperature_only);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 1U);
}

TEST(Outbox, AJournalFailureRefusesTheReadingAndDoesNotBurnItsSeq) {
  MemoryOutboxJournal journal;
  Outbox outbox(journal, {}, 100);
  ASSERT_TRUE(outbox.add(kTs, values(20.0, 40.0)));
  journal.set_failing(true);
  auto failed = outbox.add(kTs + 1, values(21.0, 40.0));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Errc::io);
  EXPECT_EQ(outbox.pending_count(), 1U);
  EXPECT_EQ(outbox.next_seq(), 2U);
  journal.set_failing(false);
  // The next reading gets seq 2: no hole the gateway's contiguous ack could never cross.
  auto next = outbox.add(kTs + 2, values(22.0, 40.0));
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, 2U);
  EXPECT_EQ(seqs(outbox.pending_after(0)), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(outbox.pending_after(1).begin()->ts_ms, kTs + 2);
}

TEST(Outbox, DropsTheOldestWhenFullAndCountsThem) {
  MemoryOutboxJournal journal;
  Outbox outbox(journal, {}, 3);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(outbox.add(kTs + i, values(20.0, 40.0)));
  EXPECT_EQ(outbox.pending_count(), 3U);
  EXPECT_EQ(outbox.dropped_total(), 2U);
  EXPECT_EQ(seqs(outbox.pending_after(0)), (std::vector<std::uint64_t>{3, 4, 5}));
  EXPECT_EQ(journal.drops_recorded(), 2U);
  auto snapshot = journal.snapshot();
  EXPECT_EQ(snapshot.dropped_total, 2U);
  EXPECT_EQ(seqs(snapshot.pending), (std::vector<std::uint64_t>{3, 4, 5}));
  EXPECT_EQ(outbox.acked_seq(), 0U);  // a drop is not an ack
}

TEST(Outbox, AFailedWriteOnAFullOutboxDropsNothing) {
  MemoryOutboxJournal journal;
  Outbox outbox(journal, {}, 2);
  ASSERT_TRUE(outbox.add(kTs, values(20.0, 40.0)));
  ASSERT_TRUE(outbox.add(kTs, values(20.0, 40.0)));
  journal.set_failing(true);
  EXPECT_FALSE(outbox.add(kTs, values(20.0, 40.0)));
  EXPECT_EQ(outbox.dropped_total(), 0U);
  EXPECT_EQ(seqs(outbox.pending_after(0)), (std::vector<std::uint64_t>{1, 2}));
}

TEST(Outbox, AcknowledgeFreesEverythingUpToTheSeq) {
  MemoryOutboxJournal journal;
  Outbox outbox(journal, {}, 100);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(outbox.add(kTs + i, values(20.0, 40.0)));
  EXPECT_EQ(outbox.acknowledge(3), AckOutcome::advanced);
  EXPECT_EQ(outbox.acked_seq(), 3U);
  EXPECT_EQ(seqs(outbox.pending_after(0)), (std::vector<std::uint64_t>{4, 5}));
  EXPECT_EQ(journal.snapshot().acked_seq, 3U);
  EXPECT_EQ(seqs(journal.snapshot().pending), (std::vector<std::uint64_t>{4, 5}));
  EXPECT_EQ(outbox.acknowledge(5), AckOutcome::advanced);
  EXPECT_EQ(outbox.pending_count(), 0U);
}

TEST(Outbox, IgnoresOldAndDuplicateAcks) {
  MemoryOutboxJournal journal;
  Outbox outbox(journal, {}, 100);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(outbox.add(kTs + i, values(20.0, 40.0)));
  ASSERT_EQ(outbox.acknowledge(3), AckOutcome::advanced);
  EXPECT_EQ(outbox.acknowledge(3), AckOutcome::duplicate);
  EXPECT_EQ(outbox.acknowledge(1), AckOutcome::duplicate);
  EXPECT_EQ(outbox.acknowledge(0), AckOutcome::duplicate);
  EXPECT_EQ(outbox.acked_seq(), 3U);
  EXPECT_EQ(outbox.pending_count(), 2U);
  EXPECT_EQ(journal.acks_recorded(), 1U);
  EXPECT_EQ(outbox.bogus_acks(), 0U);
}

TEST(Outbox, ABogusAckBeyondTheLastSeqDropsNothing) {
  MemoryOutboxJournal journal;
  Outbox outbox(journal, {}, 100);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(outbox.add(kTs + i, values(20.0, 40.0)));
  EXPECT_EQ(outbox.acknowledge(6), AckOutcome::bogus);
  EXPECT_EQ(outbox.acknowledge(std::numeric_limits<std::uint64_t>::max()), AckOutcome::bogus);
  EXPECT_EQ(outbox.bogus_acks(), 2U);
  EXPECT_EQ(outbox.acked_seq(), 0U);
  EXPECT_EQ(outbox.pending_count(), 5U);
  EXPECT_EQ(journal.acks_recorded(), 0U);
  EXPECT_EQ(outbox.acknowledge(5), AckOutcome::advanced);  // the last seq itself is fine
}

TEST(Outbox, AckJournalFailuresAreCountedAndAppliedInMemory) {
  MemoryOutboxJournal journal;
  Outbox outbox(journal, {}, 100);
  ASSERT_TRUE(outbox.add(kTs, values(20.0, 40.0)));
  journal.set_failing(true);
  EXPECT_EQ(outbox.acknowledge(1), AckOutcome::advanced);
  EXPECT_EQ(outbox.pending_count(), 0U);
  EXPECT_EQ(outbox.journal_failures(), 1U);
}

TEST(Outbox, ListsPendingReadingsAfterASeq) {
  MemoryOutboxJournal journal;
  Outbox outbox(journal, {}, 100);
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(outbox.add(kTs + i, values(20.0, 40.0)));
  ASSERT_EQ(outbox.acknowledge(2), AckOutcome::advanced);
  EXPECT_EQ(seqs(outbox.pending_after(0)), (std::vector<std::uint64_t>{3, 4, 5, 6}));
  EXPECT_EQ(seqs(outbox.pending_after(4)), (std::vector<std::uint64_t>{5, 6}));
  EXPECT_TRUE(outbox.pending_after(6).empty());
  EXPECT_TRUE(outbox.pending_after(std::numeric_limits<std::uint64_t>::max()).empty());
  EXPECT_EQ(outbox.pending_count_through(2), 0U);
  EXPECT_EQ(outbox.pending_count_through(4), 2U);
  EXPECT_EQ(outbox.pending_count_through(100), 4U);
  EXPECT_EQ(outbox.pending_count_through(std::numeric_limits<std::uint64_t>::max()), 4U);
}

TEST(Outbox, ARestartFromTheJournalContinuesWhereItStopped) {
  MemoryOutboxJournal journal;
  {
    Outbox outbox(journal, {}, 3);
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(outbox.add(kTs + i, values(20.0 + i, 40.0)));  // drops 1..3
    ASSERT_EQ(outbox.acknowledge(4), AckOutcome::advanced);
  }
  Outbox restarted(journal, journal.snapshot(), 3);
  EXPECT_EQ(restarted.acked_seq(), 4U);
  EXPECT_EQ(restarted.dropped_total(), 3U);
  EXPECT_EQ(seqs(restarted.pending_after(0)), (std::vector<std::uint64_t>{5, 6}));
  EXPECT_EQ(restarted.pending_after(5).begin()->value(proto::Quantity::temperature), 25.0);
  auto seq = restarted.add(kTs + 10, values(20.0, 40.0));
  ASSERT_TRUE(seq);
  EXPECT_EQ(*seq, 7U);
}

TEST(Outbox, SeqsKeepIncreasingAfterARestartWithNothingPending) {
  MemoryOutboxJournal journal;
  {
    Outbox outbox(journal, {}, 10);
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(outbox.add(kTs + i, values(20.0, 40.0)));
    ASSERT_EQ(outbox.acknowledge(4), AckOutcome::advanced);
  }
  auto snapshot = journal.snapshot();
  EXPECT_TRUE(snapshot.pending.empty());
  Outbox restarted(journal, snapshot, 10);
  auto seq = restarted.add(kTs + 10, values(20.0, 40.0));
  ASSERT_TRUE(seq);
  EXPECT_EQ(*seq, 5U);
}

TEST(Outbox, RepairsAnInconsistentSnapshot) {
  MemoryOutboxJournal journal;
  OutboxSnapshot snapshot;
  snapshot.next_seq = 2;  // lower than the pending readings: must not lead to reuse
  snapshot.acked_seq = 3;
  snapshot.dropped_total = 7;
  snapshot.pending = {reading(2), reading(4), reading(6), reading(5), reading(9), reading(10)};
  Outbox outbox(journal, snapshot, 2);
  // 2 is acknowledged, 5 is out of order; of 4, 6, 9, 10 the two oldest exceed the capacity.
  EXPECT_EQ(seqs(outbox.pending_after(0)), (std::vector<std::uint64_t>{9, 10}));
  EXPECT_EQ(outbox.dropped_total(), 9U);
  EXPECT_EQ(outbox.next_seq(), 11U);
  EXPECT_EQ(journal.drops_recorded(), 1U);
  EXPECT_EQ(journal.snapshot().dropped_total, 9U);

  Outbox empty(journal, OutboxSnapshot{.next_seq = 0, .acked_seq = 0, .dropped_total = 0, .pending = {}}, 0);
  EXPECT_EQ(empty.next_seq(), 1U);  // seq 0 is never a reading
  EXPECT_EQ(empty.capacity(), 1U);

  Outbox acked_ahead(journal, OutboxSnapshot{.next_seq = 3, .acked_seq = 8, .dropped_total = 0, .pending = {}}, 5);
  EXPECT_EQ(acked_ahead.next_seq(), 9U);
}

TEST(MemoryOutboxJournal, ALaterRecordOfASeqReplacesTheEarlierOne) {
  MemoryOutboxJournal journal;
  ASSERT_TRUE(journal.record_reading(reading(1, 20.0)));
  ASSERT_TRUE(journal.record_reading(reading(2, 20.0)));
  ASSERT_TRUE(journal.record_reading(reading(2, 23.0)));
  auto snapshot = journal.snapshot();
  ASSERT_EQ(snapshot.pending.size(), 2U);
  EXPECT_EQ(snapshot.pending[1].value(proto::Quantity::temperature), 23.0);
  EXPECT_EQ(snapshot.next_seq, 3U);
}

TEST(MemoryOutboxJournal, RecordsNothingWhileFailing) {
  MemoryOutboxJournal journal;
  journal.set_failing(true);
  EXPECT_FALSE(journal.record_reading(reading(1)));
  EXPECT_FALSE(journal.record_ack(1));
  EXPECT_FALSE(journal.record_drop(1, 1));
  auto snapshot = journal.snapshot();
  EXPECT_TRUE(snapshot.pending.empty());
  EXPECT_EQ(snapshot.next_seq, 1U);
  EXPECT_EQ(snapshot.acked_seq, 0U);
  EXPECT_EQ(snapshot.dropped_total, 0U);
}

}  // namespace
}  // namespace kelvin::device
