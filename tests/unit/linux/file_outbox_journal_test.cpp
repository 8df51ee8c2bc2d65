#include "kelvin/linux_port/file_outbox_journal.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <limits>

#include "journal_test_support.hpp"
#include "kelvin/core/files.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::linux_port {
namespace {

namespace fs = std::filesystem;
using kelvin::testing::TempDir;
using testing::append_raw;
using ::testing::HasSubstr;
using testing::line_of;
using testing::lines_of;
using testing::overwrite;
using testing::reading;
using testing::slurp;

FileOutboxJournal open_journal(const fs::path& dir, FileOutboxJournalOptions options = {}) {
  auto journal = FileOutboxJournal::open(dir, options);
  if (!journal) throw std::runtime_error(journal.error().message);
  return std::move(journal).value();
}

std::vector<std::uint64_t> pending_seqs(const device::OutboxSnapshot& snapshot) {
  std::vector<std::uint64_t> seqs;
  for (const auto& r : snapshot.pending) seqs.push_back(r.seq);
  return seqs;
}

TEST(FileOutboxJournalFormat, ReferenceCrcIsZlibs) {
  EXPECT_EQ(testing::reference_crc32("123456789"), 0xCBF43926u);
}

TEST(FileOutboxJournal, AFreshJournalIsEmptyAndPrivate) {
  TempDir tmp;
  const fs::path dir = tmp / "state" / "outbox";
  auto journal = open_journal(dir);
  auto snapshot = journal.snapshot();
  EXPECT_EQ(snapshot.next_seq, 1u);
  EXPECT_EQ(snapshot.acked_seq, 0u);
  EXPECT_EQ(snapshot.dropped_total, 0u);
  EXPECT_TRUE(snapshot.pending.empty());
  EXPECT_EQ(*files::permissions_of(dir), 0700u);
  EXPECT_EQ(*files::permissions_of(journal.path()), 0600u);
  EXPECT_EQ(slurp(journal.path()), line_of("kelvin-outbox\t1\t1\t0\t0"));
}

TEST(FileOutboxJournal, WritesTheDocumentedFormat) {
  TempDir tmp;
  auto journal = open_journal(tmp.path());
  ASSERT_TRUE(journal.record_reading(reading(1, 21.5, std::nullopt)));
  ASSERT_TRUE(journal.record_reading(reading(2, -0.1, 40.25)));
  ASSERT_TRUE(journal.record_ack(1));
  ASSERT_TRUE(journal.record_drop(2, 1));
  EXPECT_EQ(slurp(journal.path()), line_of("kelvin-outbox\t1\t1\t0\t0") + line_of("r\t1\t1732200001000\t21.5\t-") +
                                       line_of("r\t2\t1732200002000\t-0.1\t40.25") + line_of("a\t1") +
                                       line_of("d\t2\t1"));
}

TEST(FileOutboxJournal, ReadingsRoundTripExactly) {
  TempDir tmp;
  const std::vector<proto::Reading> written = {
      reading(1, 21.5, 40.2),
      reading(2, 0.1, std::nullopt),
      reading(3, std::nullopt, 99.99999999999999),
      reading(4, -54.999999999999993, 1e-300),
      reading(5, 123.456789012345678, std::numeric_limits<double>::denorm_min()),
      reading(6, -0.0, 0.0),
  };
  {
    auto journal = open_journal(tmp.path());
    for (const auto& r : written) ASSERT_TRUE(journal.record_reading(r));
    EXPECT_EQ(journal.snapshot().pending, written);
  }
  auto reopened = open_journal(tmp.path());
  auto snapshot = reopened.snapshot();
  EXPECT_EQ(snapshot.pending, written);  // operator== compares the doubles exactly
  EXPECT_TRUE(std::signbit(snapshot.pending[5].values[0].value()));
  EXPECT_EQ(snapshot.next_seq, 7u);
}

TEST(FileOutboxJournal, AcksAndDropsSurviveAReopen) {
  TempDir tmp;
  {
    auto journal = open_journal(tmp.path());
    for (std::uint64_t seq = 1; seq <= 6; ++seq) ASSERT_TRUE(journal.record_reading(reading(seq)));
    ASSERT_TRUE(journal.record_ack(2));
    EXPECT_THAT(pending_seqs(journal.snapshot()), ::testing::ElementsAre(3, 4, 5, 6));
    ASSERT_TRUE(journal.record_drop(4, 2));
    auto snapshot = journal.snapshot();
    EXPECT_THAT(pending_seqs(snapshot), ::testing::ElementsAre(5, 6));
    EXPECT_EQ(snapshot.dropped_total, 2u);
    EXPECT_EQ(snapshot.acked_seq, 2u);
  }
  auto snapshot = open_journal(tmp.path()).snapshot();
  EXPECT_THAT(pending_seqs(snapshot), ::testing::ElementsAre(5, 6));
  EXPECT_EQ(snapshot.acked_seq, 2u);
  EXPECT_EQ(snapshot.dropped_total, 2u);
  EXPECT_EQ(snapshot.next_seq, 7u);
}

TEST(FileOutboxJournal, NextSeqSurvivesWhenEverythingIsAcknowledged) {
  TempDir tmp;
  {
    auto journal = open_journal(tmp.path());
    for (std::uint64_t seq = 1; seq <= 3; ++seq) ASSERT_TRUE(journal.record_reading(reading(seq)));
    ASSERT_TRUE(journal.record_ack(3));
  }
  auto journal = open_journal(tmp.path());
  EXPECT_EQ(journal.snapshot().next_seq, 4u);
  EXPECT_TRUE(journal.snapshot().pending.empty());
}

TEST(FileOutboxJournal, RefusesASeqThatWasAlreadyHandedOut) {
  TempDir tmp;
  auto journal = open_journal(tmp.path());
  ASSERT_TRUE(journal.record_reading(reading(1)));
  ASSERT_TRUE(journal.record_reading(reading(2)));
  const auto size = journal.file_size();
  EXPECT_FALSE(journal.record_reading(reading(2)));
  EXPECT_FALSE(journal.record_reading(reading(1)));
  EXPECT_FALSE(journal.record_reading(reading(0)));
  EXPECT_THAT(journal.last_error(), HasSubstr("seq 3 or higher"));
  EXPECT_EQ(journal.file_size(), size);
  EXPECT_EQ(fs::file_size(journal.path()), size);
  EXPECT_TRUE(journal.record_reading(reading(3)));
}

TEST(FileOutboxJournal, AnAckThatChangesNothingWritesNothing) {
  TempDir tmp;
  auto journal = open_journal(tmp.path());
  ASSERT_TRUE(journal.record_reading(reading(1)));
  ASSERT_TRUE(journal.record_reading(reading(2)));
  ASSERT_TRUE(journal.record_ack(2));
  const auto size = fs::file_size(journal.path());
  EXPECT_TRUE(journal.record_ack(2));
  EXPECT_TRUE(journal.record_ack(1));
  EXPECT_EQ(fs::file_size(journal.path()), size);
}

TEST(FileOutboxJournal, ARepeatedSeqInTheFileKeepsTheLaterRecord) {
  // The outbox reuses the seq of a reading whose write failed; if that write reached the disk
  // after all, the record after it is the one the outbox accepted.
  TempDir tmp;
  overwrite(tmp / "outbox.journal", line_of("kelvin-outbox\t1\t1\t0\t0") + line_of("r\t1\t1000\t20\t-") +
                                        line_of("r\t2\t2000\t21\t-") + line_of("r\t2\t3000\t22\t-"));
  auto snapshot = open_journal(tmp.path()).snapshot();
  ASSERT_EQ(snapshot.pending.size(), 2u);
  EXPECT_EQ(snapshot.pending[1].ts_ms, 3000);
  EXPECT_EQ(snapshot.next_seq, 3u);
}

TEST(FileOutboxJournal, ATornTailIsIgnoredCutOffAndAppendedAfter) {
  TempDir tmp;
  {
    auto journal = open_journal(tmp.path());
    ASSERT_TRUE(journal.record_reading(reading(1)));
    ASSERT_TRUE(journal.record_reading(reading(2)));
  }
  const fs::path path = tmp / "outbox.journal";
  const std::string intact = slurp(path);
  append_raw(path, "r\t3\t17322000");  // a crash in the middle of an append
  {
    auto journal = open_journal(tmp.path());
    EXPECT_THAT(pending_seqs(journal.snapshot()), ::testing::ElementsAre(1, 2));
    EXPECT_EQ(journal.snapshot().next_seq, 3u);
    EXPECT_EQ(slurp(path), intact);  // cut off at open
    ASSERT_TRUE(journal.record_reading(reading(3)));
  }
  auto snapshot = open_journal(tmp.path()).snapshot();
  EXPECT_THAT(pending_seqs(snapshot), ::testing::ElementsAre(1, 2, 3));
  EXPECT_EQ(lines_of(slurp(path)).size(), 4u);
}

TEST(FileOutboxJournal, AChecksumFailingLastLineIsATornTail) {
  TempDir tmp;
  {
    auto journal = open_journal(tmp.path());
    ASSERT_TRUE(journal.record_reading(reading(1)));
  }
  const fs::path path = tmp / "outbox.journal";
  std::string damaged = line_of("r\t2\t2000\t21\t-");
  damaged[5] = '9';  // complete line, wrong checksum
  append_raw(path, damaged);
  {
    auto journal = open_journal(tmp.path());
    EXPECT_THAT(pending_seqs(journal.snapshot()), ::testing::ElementsAre(1));
    ASSERT_TRUE(journal.record_reading(reading(2)));
  }
  EXPECT_THAT(pending_seqs(open_journal(tmp.path()).snapshot()), ::testing::ElementsAre(1, 2));
}

TEST(FileOutboxJournal, DamageBeforeTheLastLineIsRefused) {
  TempDir tmp;
  {
    auto journal = open_journal(tmp.path());
    for (std::uint64_t seq = 1; seq <= 3; ++seq) ASSERT_TRUE(journal.record_reading(reading(seq)));
  }
  const fs::path path = tmp / "outbox.journal";
  const std::string before = slurp(path);
  std::string text = before;
  const auto line3 = text.find("\nr\t2\t") + 1;
  text[line3 + 4] = '7';  // a flipped digit in line 3 of 4
  overwrite(path, text);
  auto journal = FileOutboxJournal::open(tmp.path());
  ASSERT_FALSE(journal.ok());
  EXPECT_EQ(journal.error().code, Errc::corrupt);
  EXPECT_THAT(journal.error().message, HasSubstr("line 3"));
  EXPECT_THAT(journal.error().message, HasSubstr(path.string()));
  EXPECT_EQ(slurp(path), text);  // nothing was cut or rewritten
}

TEST(FileOutboxJournal, ContentThatCannotBeAJournalIsRefused) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"empty file", ""},
      {"torn header only", "kelvin-outbox\t1\t1"},
      {"no header", line_of("r\t1\t1000\t20\t-")},
      {"damaged header", "kelvin-outbox\t1\t1\t0\t0\t00000000\n" + line_of("a\t1")},
      {"second header", line_of("kelvin-outbox\t1\t1\t0\t0") + line_of("kelvin-outbox\t1\t1\t0\t0") + line_of("a\t0")},
      {"newer version", line_of("kelvin-outbox\t2\t1\t0\t0")},
      {"unknown record", line_of("kelvin-outbox\t1\t1\t0\t0") + line_of("x\t1")},
      {"seq going back",
       line_of("kelvin-outbox\t1\t1\t0\t0") + line_of("r\t5\t1000\t20\t-") + line_of("r\t4\t1000\t20\t-")},
      {"bad value", line_of("kelvin-outbox\t1\t1\t0\t0") + line_of("r\t1\t1000\t20x\t-")},
      {"missing field", line_of("kelvin-outbox\t1\t1\t0\t0") + line_of("r\t1\t1000\t20")},
  };
  for (const auto& [what, content] : cases) {
    TempDir tmp;
    overwrite(tmp / "outbox.journal", content);
    auto journal = FileOutboxJournal::open(tmp.path());
    ASSERT_FALSE(journal.ok()) << what;
    EXPECT_EQ(journal.error().code, Errc::corrupt) << what << ": " << journal.error().message;
  }
}

TEST(FileOutboxJournal, OnlyOneProcessAtATime) {
  TempDir tmp;
  {
    auto first = open_journal(tmp.path());
    auto second = FileOutboxJournal::open(tmp.path());
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code, Errc::conflict);
    EXPECT_THAT(second.error().message, HasSubstr("in use"));
  }
  EXPECT_TRUE(FileOutboxJournal::open(tmp.path()).ok());
}

TEST(FileOutboxJournal, AMovedJournalKeepsWorking) {
  TempDir tmp;
  auto journal = open_journal(tmp.path());
  FileOutboxJournal moved = std::move(journal);
  ASSERT_TRUE(moved.record_reading(reading(1)));
  EXPECT_FALSE(FileOutboxJournal::open(tmp.path()).ok());  // the lock moved along
}

TEST(FileOutboxJournal, CompactionKeepsTheStateAndShrinksTheFile) {
  TempDir tmp;
  FileOutboxJournalOptions options;
  options.min_dead_records = 50;
  auto journal = open_journal(tmp.path(), options);
  std::uint64_t largest_size = 0;
  for (std::uint64_t seq = 1; seq <= 200; ++seq) {
    ASSERT_TRUE(journal.record_reading(reading(seq, 20.0 + static_cast<double>(seq) / 100.0, 50.0)));
    if (seq % 10 == 0) {
      ASSERT_TRUE(journal.record_ack(seq - 3));
    }
    if (seq == 150) {
      ASSERT_TRUE(journal.record_drop(148, 1));  // drops only what was not acked
    }
    largest_size = std::max<std::uint64_t>(largest_size, fs::file_size(journal.path()));
  }
  EXPECT_GE(journal.compactions(), 1u);
  const auto expected = journal.snapshot();
  EXPECT_THAT(pending_seqs(expected), ::testing::ElementsAre(198, 199, 200));
  // Dead records never exceed the threshold plus the one that tipped it over.
  EXPECT_LE(journal.records_in_file(), 3u + 51u);
  EXPECT_LT(fs::file_size(journal.path()), largest_size);
  EXPECT_EQ(fs::file_size(journal.path()), journal.file_size());

  ASSERT_TRUE(journal.compact());
  EXPECT_EQ(journal.records_in_file(), 3u);
  auto lines = lines_of(slurp(journal.path()));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0] + "\n", line_of("kelvin-outbox\t1\t201\t197\t1"));

  ASSERT_TRUE(journal.record_reading(reading(201)));  // appends go to the new file
  { auto closing = std::move(journal); }              // closed here, releasing the lock
  auto reopened = open_journal(tmp.path(), options);
  auto snapshot = reopened.snapshot();
  EXPECT_THAT(pending_seqs(snapshot), ::testing::ElementsAre(198, 199, 200, 201));
  EXPECT_EQ(snapshot.pending[0], expected.pending[0]);
  EXPECT_EQ(snapshot.acked_seq, 197u);
  EXPECT_EQ(snapshot.dropped_total, 1u);
  EXPECT_EQ(snapshot.next_seq, 202u);
}

TEST(FileOutboxJournal, CompactionWithNothingPendingKeepsNextSeq) {
  TempDir tmp;
  {
    auto journal = open_journal(tmp.path());
    for (std::uint64_t seq = 1; seq <= 40; ++seq) ASSERT_TRUE(journal.record_reading(reading(seq)));
    ASSERT_TRUE(journal.record_ack(40));
    ASSERT_TRUE(journal.compact());
    EXPECT_EQ(slurp(journal.path()), line_of("kelvin-outbox\t1\t41\t40\t0"));
  }
  auto journal = open_journal(tmp.path());
  EXPECT_EQ(journal.snapshot().next_seq, 41u);
  EXPECT_FALSE(journal.record_reading(reading(40)));
  EXPECT_TRUE(journal.record_reading(reading(41)));
}

TEST(FileOutboxJournal, CompactionRunsWhenDeadRecordsPassTwicePending) {
  TempDir tmp;
  FileOutboxJournalOptions options;
  options.min_dead_records = 10;
  auto journal = open_journal(tmp.path(), options);
  // 100 pending readings: 10 dead records are not enough, 200 are needed.
  for (std::uint64_t seq = 1; seq <= 120; ++seq) ASSERT_TRUE(journal.record_reading(reading(seq)));
  for (std::uint64_t seq = 1; seq <= 20; ++seq) ASSERT_TRUE(journal.record_ack(seq));
  EXPECT_EQ(journal.compactions(), 0u);  // 40 dead records <= 2 x 100 pending
  for (std::uint64_t seq = 121; seq <= 300; ++seq) {
    ASSERT_TRUE(journal.record_reading(reading(seq)));
    ASSERT_TRUE(journal.record_ack(seq - 100));
  }
  EXPECT_GE(journal.compactions(), 1u);
  EXPECT_EQ(journal.snapshot().pending.size(), 100u);
}

TEST(FileOutboxJournal, LeftoversOfAnInterruptedCompactionAreRemoved) {
  TempDir tmp;
  { open_journal(tmp.path()); }
  overwrite(tmp / "outbox.journal.tmp.AbC123", "half a compaction");
  auto journal = open_journal(tmp.path());
  EXPECT_FALSE(fs::exists(tmp / "outbox.journal.tmp.AbC123"));
}

// A write that fails half-way (here: the file size limit, as a full disk would) must leave no
// partial line behind, or the next record would follow a damaged line and replay would refuse.
TEST(FileOutboxJournal, AFailedWriteLeavesTheFileIntact) {
  TempDir tmp;
  { open_journal(tmp.path()); }
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int code = 0;
    {
      ::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of a signal
      auto journal = FileOutboxJournal::open(tmp.path());
      if (!journal) ::_exit(10);
      if (!journal->record_reading(reading(1))) ::_exit(11);
      rlimit limit{};
      ::getrlimit(RLIMIT_FSIZE, &limit);
      const rlimit original = limit;
      limit.rlim_cur = static_cast<rlim_t>(journal->file_size() + 10);
      ::setrlimit(RLIMIT_FSIZE, &limit);
      if (journal->record_reading(reading(2, 22.0))) code = 12;  // must fail: only 10 bytes fit
      if (journal->last_error().empty()) code = 13;
      if (fs::file_size(journal->path()) != journal->file_size()) code = 14;  // rolled back
      ::setrlimit(RLIMIT_FSIZE, &original);
      if (!journal->record_reading(reading(2, 23.0))) code = 15;  // same seq, accepted now
    }
    ::_exit(code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  auto snapshot = open_journal(tmp.path()).snapshot();
  ASSERT_EQ(snapshot.pending.size(), 2u);
  EXPECT_EQ(snapshot.pending[1].values[0], 23.0);
}

}  // namespace
}  // namespace kelvin::linux_port
