// Opening: file creation and permissions, connection settings, and refusing what is not ours.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "kelvin/core/files.hpp"
#include "kelvin/testing/temp_dir.hpp"
#include "kelvin/testing/unprivileged.hpp"
#include "schema.hpp"
#include "store_test_support.hpp"

namespace kelvin::store {
namespace {

namespace fs = std::filesystem;
using kelvin::testing::give_to_unprivileged;
using kelvin::testing::run_unprivileged;
using kelvin::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace kelvin::store::testing;

// Sets the process umask for the scope (umask is process-wide; gtest runs tests sequentially).
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : previous_(::umask(mask)) {}
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;
  ~ScopedUmask() { ::umask(previous_); }

 private:
  mode_t previous_;
};

TEST(StoreOpen, CreatesTheDatabaseAndItsWalWithMode0600WhateverTheUmask) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  ScopedUmask permissive(0);  // SQLite on its own would create 0644 files
  auto store = Store::open(path);
  ASSERT_TRUE(store.ok()) << store.error().message;
  commit_ok(*store, batch_of("sensor-1", sequence(1, 1, kT0)), kT0);  // the WAL exists while open

  auto mode = files::permissions_of(path);
  ASSERT_TRUE(mode.ok());
  EXPECT_EQ(*mode, 0600u);
  ASSERT_TRUE(fs::exists(path.string() + "-wal"));
  auto wal_mode = files::permissions_of(path.string() + "-wal");
  ASSERT_TRUE(wal_mode.ok());
  EXPECT_EQ(*wal_mode, 0600u);
}

TEST(StoreOpen, UsesWalJournalAndRecordsTheSchemaVersion) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  {
    auto store = Store::open(path);
    ASSERT_TRUE(store.ok()) << store.error().message;
  }
  RawDatabase raw(path);
  EXPECT_EQ(raw.text("PRAGMA journal_mode"), "wal");  // WAL is persistent: visible to any connection
  EXPECT_EQ(raw.integer("PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(raw.integer("PRAGMA application_id"), 0x4B4C564E);
}

TEST(StoreOpen, EnforcesForeignKeys) {
  TempDir tmp;
  auto store = Store::open(tmp / "store.db");
  ASSERT_TRUE(store.ok()) << store.error().message;
  commit_ok(*store, batch_of("sensor-1", sequence(1, 2, kT0)), kT0);
  // A purge relies on ON DELETE CASCADE, which needs foreign_keys=ON in the store's connection.
  ASSERT_TRUE(store->remove_device("sensor-1", true).ok());
  RawDatabase raw(tmp / "store.db");
  EXPECT_EQ(raw.integer("SELECT count(*) FROM series"), 0);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM rollups"), 0);
}

TEST(StoreOpen, ReopensAnExistingStoreWithItsData) {
  TempDir tmp;
  {
    auto store = Store::open(tmp / "store.db");
    ASSERT_TRUE(store.ok()) << store.error().message;
    commit_ok(*store, batch_of("sensor-1", sequence(1, 7, kT0)), kT0);
    ASSERT_TRUE(store->register_device("sensor-2", kT0).ok());
  }
  auto store = Store::open(tmp / "store.db");
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto devices = store->list_devices();
  ASSERT_TRUE(devices.ok());
  ASSERT_EQ(devices->size(), 2u);
  EXPECT_EQ((*devices)[0].acked_seq, 7u);
  EXPECT_EQ((*devices)[1].registered_ms, kT0);
  auto data = store->query(query_of("sensor-1", proto::Quantity::temperature, kT0, kT0 + kHour, kHour));
  ASSERT_TRUE(data.ok());
  ASSERT_EQ(data->buckets.size(), 1u);
  EXPECT_EQ(data->buckets[0].count, 7u);
}

TEST(StoreOpen, GarbageFileIsCorruptAndNamed) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 512; ++i) out << "not a database ";
  }
  auto store = Store::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::corrupt);
  EXPECT_NE(store.error().message.find(path.string()), std::string::npos) << store.error().message;
  // And the file is left as it was.
  std::ifstream in(path, std::ios::binary);
  std::string start(14, '\0');
  in.read(start.data(), 14);
  EXPECT_EQ(start, "not a database");
}

TEST(StoreOpen, ForeignSqliteDatabaseIsRefused) {
  TempDir tmp;
  const fs::path path = tmp / "other.db";
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE devices (x)", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = Store::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::corrupt);
  EXPECT_NE(store.error().message.find("not a kelvin store"), std::string::npos) << store.error().message;
}

TEST(StoreOpen, NewerSchemaIsAClearConflict) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  {
    auto store = Store::open(path);
    ASSERT_TRUE(store.ok()) << store.error().message;
  }
  {
    RawDatabase raw(path);
    raw.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion + 1));
  }
  auto store = Store::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::conflict);
  EXPECT_NE(store.error().message.find("version " + std::to_string(kSchemaVersion + 1)), std::string::npos)
      << store.error().message;
  EXPECT_NE(store.error().message.find("upgrade"), std::string::npos) << store.error().message;
}

TEST(StoreOpen, MissingDirectoryIsAnError) {
  TempDir tmp;
  auto store = Store::open(tmp / "no-such-dir" / "store.db");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::not_found);
  EXPECT_NE(store.error().message.find("no-such-dir"), std::string::npos);
}

TEST(StoreOpen, DirectoryInPlaceOfTheFileIsAnError) {
  TempDir tmp;
  fs::create_directory(tmp / "store.db");
  auto store = Store::open(tmp / "store.db");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::io);
}

// Store::open in a child process as an unprivileged account (root would be let through the
// permissions under test): "opened", or the error's code and message.
std::string open_unprivileged(const fs::path& path) {
  auto outcome = run_unprivileged([&path]() -> std::string {
    auto store = Store::open(path);
    if (store.ok()) return "opened";
    return std::string(to_string(store.error().code)) + ": " + store.error().message;
  });
  return outcome.value_or("(no outcome)");
}

TEST(StoreOpen, UnwritableDirectoryIsPermissionDenied) {
  TempDir tmp;
  fs::create_directory(tmp / "locked");
  ASSERT_TRUE(give_to_unprivileged(tmp.path()));
  fs::permissions(tmp / "locked", fs::perms::owner_read | fs::perms::owner_exec);
  EXPECT_THAT(open_unprivileged(tmp / "locked" / "store.db"),
              StartsWith(std::string(to_string(Errc::permission_denied)) + ": "));
  EXPECT_FALSE(fs::exists(tmp / "locked" / "store.db"));
}

TEST(StoreOpen, ReadOnlyFileIsPermissionDenied) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  { ASSERT_TRUE(Store::open(path).ok()); }
  ASSERT_TRUE(give_to_unprivileged(tmp.path()));
  fs::permissions(path, fs::perms::owner_read);
  const std::string outcome = open_unprivileged(path);
  EXPECT_THAT(outcome, StartsWith(std::string(to_string(Errc::permission_denied)) + ": "));
  EXPECT_THAT(outcome, HasSubstr("not writable"));
}

TEST(StoreOpen, NegativeBusyTimeoutOrFoldIntervalIsRefused) {
  StoreOptions busy;
  busy.busy_timeout_ms = -1;
  StoreOptions fold;
  fold.rollup_fold_interval_ms = -1;
  for (const auto& [options, named] :
       {std::pair{busy, "busy_timeout_ms"}, std::pair{fold, "rollup_fold_interval_ms"}}) {
    TempDir tmp;
    auto store = Store::open(tmp / "store.db", options);
    ASSERT_FALSE(store.ok()) << named;
    EXPECT_EQ(store.error().code, Errc::invalid_argument);
    EXPECT_NE(store.error().message.find(named), std::string::npos) << store.error().message;
    EXPECT_FALSE(fs::exists(tmp / "store.db"));  // refused before touching the disk
  }
}

}  // namespace
}  // namespace kelvin::store
