#include "kelvin/store/account_db.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <limits>

#include "kelvin/store/store.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::store {
namespace {

TEST(AccountDb, IsCreatedPrivate) {
  testing::TempDir dir;
  ASSERT_TRUE(AccountDb::open(dir / "accounts.db").ok());
  struct stat info {};
  ASSERT_EQ(::stat((dir / "accounts.db").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST(AccountDb, RefusesAnotherSqliteFile) {
  testing::TempDir dir;
  ASSERT_TRUE(Store::open(dir / "kelvin.db").ok());
  auto opened = AccountDb::open(dir / "kelvin.db");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, Errc::corrupt);
}

// Now by the host's clock, which the schema's guard reads.
std::int64_t host_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr std::int64_t kDayMs = 86'400'000;

// `sql` run on a connection of its own, behind AccountDb's back: SQLITE_OK or the error.
int raw_exec(const std::filesystem::path& file, const char* sql) {
  sqlite3* raw = nullptr;
  EXPECT_EQ(sqlite3_open(file.c_str(), &raw), SQLITE_OK);
  const int rc = sqlite3_exec(raw, sql, nullptr, nullptr, nullptr);
  sqlite3_close(raw);
  return rc;
}

TEST(AccountDb, TheAuditLogCannotBeRewrittenOrTruncated) {
  testing::TempDir dir;
  const std::int64_t now = host_now_ms();
  {
    auto db = AccountDb::open(dir / "accounts.db");
    ASSERT_TRUE(db.ok());
    ASSERT_EQ(*db->append_audit({0, now - 1, "ann", "192.0.2.1", "login", "ann", "failed", "wrong password"}), 1);
    ASSERT_EQ(*db->append_audit({0, now, "ann", "192.0.2.1", "login", "ann", "ok", ""}), 2);
  }
  EXPECT_NE(raw_exec(dir / "accounts.db", "UPDATE audit SET result = 'ok' WHERE id = 1"), SQLITE_OK);
  EXPECT_NE(raw_exec(dir / "accounts.db", "DELETE FROM audit"), SQLITE_OK);
  EXPECT_NE(raw_exec(dir / "accounts.db", "DELETE FROM audit WHERE id = 1"), SQLITE_OK);
  auto db = AccountDb::open(dir / "accounts.db");
  auto entries = db->audit_entries(0, 10);
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].result, "failed");
  EXPECT_EQ(db->audit_entries(1, 10)->size(), 1u);
  EXPECT_EQ(db->audit_entries(0, 1)->size(), 1u);
  // Newest first, before an id.
  auto newest = db->audit_entries_before(std::numeric_limits<std::int64_t>::max(), 1);
  ASSERT_EQ(newest->size(), 1u);
  EXPECT_EQ((*newest)[0].id, 2);
  auto older = db->audit_entries_before(2, 10);
  ASSERT_EQ(older->size(), 1u);
  EXPECT_EQ((*older)[0].id, 1);
  EXPECT_TRUE(db->audit_entries_before(1, 10)->empty());
}

TEST(AccountDb, OnlyAuditEntriesOlderThanTheMinimumRetentionCanBeRemovedOldestFirst) {
  testing::TempDir dir;
  auto db = AccountDb::open(dir / "accounts.db");
  ASSERT_TRUE(db.ok());
  const std::int64_t now = host_now_ms();
  const std::int64_t old_enough = now - (kMinAuditRetentionDays + 1) * kDayMs;
  const std::int64_t too_young = now - (kMinAuditRetentionDays - 1) * kDayMs;
  for (std::int64_t at : {old_enough - 3, old_enough - 2, old_enough - 1, too_young}) {
    ASSERT_TRUE(db->append_audit({0, at, "ann", "192.0.2.1", "login", "ann", "ok", ""}).ok());
  }
  // The oldest first, `limit` at a time.
  auto removed = db->remove_audit_before(old_enough, 2);
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ(*removed, 2u);
  EXPECT_EQ(db->audit_entries(0, 10)->front().id, 3);
  // Asked to remove an entry younger than the minimum: the schema refuses, and nothing goes.
  auto refused = db->remove_audit_before(now, 10);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("append-only"), std::string::npos) << refused.error().message;
  EXPECT_EQ(db->audit_entries(0, 10)->size(), 2u);
  EXPECT_EQ(*db->remove_audit_before(old_enough, 10), 1u);
  EXPECT_EQ(*db->remove_audit_before(old_enough, 10), 0u);
  // Ids are never handed out again: a reader paging by id misses nothing new.
  EXPECT_EQ(*db->append_audit({0, now, "ann", "192.0.2.1", "logout", "ann", "ok", ""}), 5);
}

TEST(AccountDb, AVersion1FileKeepsItsAuditLogAndGainsRetention) {
  testing::TempDir dir;
  const std::int64_t now = host_now_ms();
  {
    auto db = AccountDb::open(dir / "accounts.db");
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->append_audit({0, now - 400 * kDayMs, "ann", "192.0.2.1", "login", "ann", "ok", ""}).ok());
    ASSERT_TRUE(db->append_audit({0, now, "ann", "192.0.2.1", "logout", "ann", "ok", ""}).ok());
  }
  // Version 1 as released: every DELETE refused, no index on time.
  ASSERT_EQ(raw_exec(dir / "accounts.db",
                     "DROP TRIGGER audit_no_recent_delete; DROP INDEX audit_by_time;"
                     " CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit"
                     " log is append-only'); END; PRAGMA user_version = 1;"),
            SQLITE_OK);
  EXPECT_NE(raw_exec(dir / "accounts.db", "DELETE FROM audit WHERE id = 1"), SQLITE_OK);
  auto db = AccountDb::open(dir / "accounts.db");
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ(db->audit_entries(0, 10)->size(), 2u);
  EXPECT_EQ(*db->remove_audit_before(now - 365 * kDayMs, 10), 1u);
  EXPECT_EQ(db->audit_entries(0, 10)->front().action, "logout");
}

}  // namespace
}  // namespace kelvin::store
