// The journal's durability promise under the harshest process crash: SIGKILL at a random moment,
// while a writer appends as fast as it can (with acks, so compactions happen too). Every seq the
// writer was told is durable must come back, and no seq may ever be handed out twice.
//
// This covers process crashes (the page cache survives). Power loss also depends on the disk
// honouring fdatasync, which no unit test can check.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "journal_test_support.hpp"
#include "kelvin/linux_port/file_outbox_journal.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::linux_port {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMinDeadRecords = 16;  // small, so kills also land inside compactions

// The child: appends readings forever, reporting each seq on `report_fd` once record_reading()
// returned true. Acknowledges some of them so the log fills with dead records.
[[noreturn]] void run_writer(const fs::path& dir, int report_fd) {
  FileOutboxJournalOptions options;
  options.min_dead_records = kMinDeadRecords;
  auto journal = FileOutboxJournal::open(dir, options);
  if (!journal) ::_exit(2);
  std::uint64_t seq = journal->snapshot().next_seq;
  for (;; ++seq) {
    if (!journal->record_reading(testing::reading(seq, 20.0 + static_cast<double>(seq % 1000) / 100.0))) ::_exit(3);
    if (::write(report_fd, &seq, sizeof seq) != static_cast<ssize_t>(sizeof seq)) ::_exit(4);
    if (seq % 8 == 0) journal->record_ack(seq - 4);
  }
}

std::vector<std::uint64_t> read_reports(int fd) {
  std::vector<std::uint64_t> seqs;
  std::uint64_t seq = 0;
  for (;;) {
    const ssize_t n = ::read(fd, &seq, sizeof seq);
    if (n == static_cast<ssize_t>(sizeof seq)) {
      seqs.push_back(seq);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return seqs;  // EOF: the writer is dead (a short read cannot happen: 8 bytes < PIPE_BUF)
    }
  }
}

TEST(FileOutboxJournalCrash, EveryReportedSeqSurvivesSigkillAndNoSeqRepeats) {
  kelvin::testing::TempDir tmp;
  const fs::path dir = tmp / "outbox";
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> delay_us(0, 100'000);

  std::set<std::uint64_t> reported_ever;
  std::size_t total_reports = 0;
  for (int run = 0; run < 20; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(pipe_fds[0]);
      run_writer(dir, pipe_fds[1]);
    }
    ::close(pipe_fds[1]);
    // Read while the child writes, so a full pipe never stalls it.
    std::vector<std::uint64_t> reports;
    std::thread reader([&] { reports = read_reports(pipe_fds[0]); });
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(random)));
    ::kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    reader.join();
    ::close(pipe_fds[0]);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer exited on its own with " << WEXITSTATUS(status);

    auto journal = FileOutboxJournal::open(dir);
    ASSERT_TRUE(journal.ok()) << journal.error().message;
    const auto snapshot = journal->snapshot();
    std::set<std::uint64_t> pending;
    for (const auto& r : snapshot.pending) pending.insert(r.seq);
    for (std::uint64_t seq : reports) {
      EXPECT_TRUE(seq <= snapshot.acked_seq || pending.contains(seq)) << "seq " << seq << " was lost";
      EXPECT_LT(seq, snapshot.next_seq);
      EXPECT_TRUE(reported_ever.insert(seq).second) << "seq " << seq << " was handed out twice";
    }
    total_reports += reports.size();
    for (const auto& r : snapshot.pending) {
      EXPECT_DOUBLE_EQ(r.values[0].value(),
                       testing::reading(r.seq, 20.0 + static_cast<double>(r.seq % 1000) / 100.0).values[0].value());
    }
  }
  // Not a timing assertion: only that the writer got going at all (else this tested nothing).
  EXPECT_GT(total_reports, 0u);
  RecordProperty("reports", static_cast<int>(total_reports));
}

}  // namespace
}  // namespace kelvin::linux_port
