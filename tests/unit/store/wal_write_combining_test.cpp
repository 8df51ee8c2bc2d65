// The VFS that combines WAL writes (wal_write_combining.hpp), through real SQLite connections on
// real files: another connection sees every commit whole, also without a sync per commit (the
// WAL index must not point at frames still in the buffer); a write the disk refuses fails its
// commit and the next commit succeeds once there is room; a process killed mid-way leaves every
// commit it finished and an intact database.

#include "wal_write_combining.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>

#include "kelvin/testing/temp_dir.hpp"
#include "sqlite.hpp"
#include "store_test_support.hpp"

namespace kelvin::store::sqlite {
namespace {

using kelvin::store::testing::RawDatabase;
using kelvin::testing::TempDir;

DatabasePtr open_database(const std::filesystem::path& file, const char* synchronous) {
  auto db = open_private_database(file, 5'000, "test database");
  EXPECT_TRUE(db) << db.error().message;
  if (!db) return nullptr;
  const std::string settings = std::string("PRAGMA journal_mode = WAL; PRAGMA synchronous = ") + synchronous + ";";
  EXPECT_EQ(sqlite3_exec(db->get(), settings.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  return std::move(*db);
}

int exec(sqlite3* db, const std::string& sql) {
  return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
}

// A new database through the VFS, with the table the tests fill.
DatabasePtr create_database(const std::filesystem::path& file, const char* synchronous = "FULL") {
  auto db = open_database(file, synchronous);
  if (db) {
    EXPECT_EQ(exec(db.get(), "CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)"), SQLITE_OK);
  }
  return db;
}

// Rows `first`..`first + count - 1` in one transaction; each row is 1 KiB, so a transaction of a
// thousand rows is larger than the VFS's buffer and is written in several flushes.
int insert_rows(sqlite3* db, int first, int count) {
  return exec(db, "WITH RECURSIVE n(v) AS (SELECT " + std::to_string(first) +
                      " UNION ALL SELECT v + 1 FROM n WHERE v < " + std::to_string(first + count - 1) +
                      ") INSERT INTO t (id, payload) SELECT v, randomblob(1024) FROM n");
}

TEST(WalWriteCombining, TheStoresDatabasesAreOpenedThroughIt) {
  TempDir tmp;
  auto db = open_database(tmp.path() / "a.db", "FULL");
  ASSERT_TRUE(db);
  sqlite3_vfs* vfs = nullptr;
  ASSERT_EQ(sqlite3_file_control(db.get(), "main", SQLITE_FCNTL_VFS_POINTER, &vfs), SQLITE_OK);
  ASSERT_NE(vfs, nullptr);
  ASSERT_NE(wal_write_combining_vfs(), nullptr);
  EXPECT_STREQ(vfs->zName, wal_write_combining_vfs());
}

// Without a sync per commit the buffer is still full when SQLite publishes the commit in the WAL
// index; the reader (a plain connection: what it sees is what the files hold) would then read
// frames that are not in the file yet.
class EveryCommitIsSeenWhole : public ::testing::TestWithParam<const char*> {};

TEST_P(EveryCommitIsSeenWhole, ByAnotherConnection) {
  TempDir tmp;
  auto writer = create_database(tmp.path() / "a.db", GetParam());
  ASSERT_TRUE(writer);
  RawDatabase reader(tmp.path() / "a.db");
  // Small and large transactions, and checkpoints in between (the WAL is reused from its start).
  ASSERT_EQ(exec(writer.get(), "PRAGMA wal_autocheckpoint = 500"), SQLITE_OK);
  int rows = 0;
  for (int round = 0; round < 40; ++round) {
    const int count = round % 4 == 0 ? 1'500 : 1 + round * 7;
    ASSERT_EQ(insert_rows(writer.get(), rows + 1, count), SQLITE_OK) << sqlite3_errmsg(writer.get());
    rows += count;
    ASSERT_EQ(reader.integer("SELECT count(*) FROM t WHERE length(payload) = 1024"), rows) << "round " << round;
    ASSERT_EQ(reader.integer("SELECT max(id) FROM t"), rows);
  }
  EXPECT_EQ(reader.text("PRAGMA integrity_check"), "ok");
  writer.reset();
  RawDatabase reopened(tmp.path() / "a.db");
  EXPECT_EQ(reopened.integer("SELECT count(*) FROM t"), rows);
  EXPECT_EQ(reopened.text("PRAGMA integrity_check"), "ok");
}

INSTANTIATE_TEST_SUITE_P(Synchronous, EveryCommitIsSeenWhole, ::testing::Values("FULL", "NORMAL", "OFF"));

// The file size limit makes the kernel refuse writes past it (EFBIG), as a full disk would.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    previous_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &previous_);
    rlimit limited = previous_;
    limited.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &limited);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &previous_);
    ::signal(SIGXFSZ, previous_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit previous_{};
  sighandler_t previous_handler_ = SIG_DFL;
};

TEST(WalWriteCombining, ACommitTheDiskRefusesFailsAndTheNextOneSucceedsOnceThereIsRoom) {
  TempDir tmp;
  const auto file = tmp.path() / "a.db";
  auto db = create_database(file);
  ASSERT_TRUE(db);
  ASSERT_EQ(exec(db.get(), "PRAGMA wal_autocheckpoint = 0"), SQLITE_OK);
  ASSERT_EQ(insert_rows(db.get(), 1, 100), SQLITE_OK);
  const auto wal_size = std::filesystem::file_size(file.string() + "-wal");
  {
    FileSizeLimit limit(wal_size + 256 * 1024);
    // About 2 MiB of frames: the first flush fits, a later one does not.
    const int rc = insert_rows(db.get(), 101, 2'000);
    EXPECT_NE(rc, SQLITE_OK);
    EXPECT_TRUE((rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_IOERR) << rc << " " << sqlite3_errmsg(db.get());
  }
  EXPECT_EQ(RawDatabase(file).integer("SELECT count(*) FROM t"), 100);
  ASSERT_EQ(insert_rows(db.get(), 101, 2'000), SQLITE_OK) << sqlite3_errmsg(db.get());
  EXPECT_EQ(RawDatabase(file).integer("SELECT count(*) FROM t"), 2'100);
  db.reset();
  RawDatabase reopened(file);
  EXPECT_EQ(reopened.integer("SELECT count(*) FROM t"), 2'100);
  EXPECT_EQ(reopened.text("PRAGMA integrity_check"), "ok");
}

TEST(WalWriteCombining, AProcessKilledMidCommitLeavesEveryFinishedCommitAndAnIntactDatabase) {
  TempDir tmp;
  const auto file = tmp.path() / "a.db";
  ASSERT_TRUE(create_database(file));
  int finished[2];
  ASSERT_EQ(::pipe(finished), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Commits of 300 rows (more than the buffer holds), reporting each finished one.
    ::close(finished[0]);
    auto db = open_database(file, "FULL");
    for (int committed = 0;; committed += 300) {
      if (!db || insert_rows(db.get(), committed + 1, 300) != SQLITE_OK) ::_exit(1);
      const int total = committed + 300;
      if (::write(finished[1], &total, sizeof total) != sizeof total) ::_exit(1);
    }
  }
  ::close(finished[1]);
  int last_reported = 0;
  for (int reports = 0; reports < 20; ++reports) {
    ASSERT_EQ(::read(finished[0], &last_reported, sizeof last_reported), static_cast<ssize_t>(sizeof last_reported));
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  int total = 0;
  while (::read(finished[0], &total, sizeof total) == static_cast<ssize_t>(sizeof total)) last_reported = total;
  ::close(finished[0]);
  ASSERT_TRUE(WIFSIGNALED(status));

  RawDatabase db(file);
  const auto rows = db.integer("SELECT count(*) FROM t");
  // Every reported commit is there; the one in progress is there whole or not at all.
  EXPECT_TRUE(rows == last_reported || rows == last_reported + 300)
      << rows << " rows, " << last_reported << " reported";
  EXPECT_EQ(db.integer("SELECT max(id) FROM t"), rows);
  EXPECT_EQ(db.text("PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace kelvin::store::sqlite
