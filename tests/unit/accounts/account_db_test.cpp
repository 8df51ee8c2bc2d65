#include "kelvin/store/account_db.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <sqlite3.h>
#include <sys/stat.h>

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

TEST(AccountDb, TheAuditLogCannotBeRewrittenOrTruncated) {
  testing::TempDir dir;
  {
    auto db = AccountDb::open(dir / "accounts.db");
    ASSERT_TRUE(db.ok());
    ASSERT_EQ(*db->append_audit({0, 1, "ann", "192.0.2.1", "login", "ann", "failed", "wrong password"}), 1);
    ASSERT_EQ(*db->append_audit({0, 2, "ann", "192.0.2.1", "login", "ann", "ok", ""}), 2);
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "accounts.db").c_str(), &raw), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(raw, "UPDATE audit SET result = 'ok' WHERE id = 1", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(raw, "DELETE FROM audit", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
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

}  // namespace
}  // namespace kelvin::store
