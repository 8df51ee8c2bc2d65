// rollouts.db (kelvin/store/rollout_db.hpp): created private, refusing other files, one active
// rollout per product across connections, counts, the compare-and-set save, what a device is
// offered, the devices whose newest update failed, each rollout's target, and the upgrade of a version 1 file.

#include "kelvin/store/rollout_db.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <string>

#include "kelvin/store/account_db.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::store {
namespace {

RolloutRecord thermo(std::string version = "1.1.0", std::string product = "thermo") {
  return RolloutRecord{.product = std::move(product),
                       .version = std::move(version),
                       .waves = {50, 100},
                       .max_failure_percent = 20,
                       .created_by = "ann",
                       .created_ms = 1000,
                       .updated_ms = 1000};
}

std::vector<RolloutDeviceRecord> two_devices() {
  return {{.device = "d1", .wave = 1, .updated_ms = 1000}, {.device = "d2", .wave = 2, .updated_ms = 1000}};
}

class RolloutDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = RolloutDb::open(dir_ / "rollouts.db");
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_.emplace(std::move(*db));
  }
  testing::TempDir dir_;
  std::optional<RolloutDb> db_;
};

TEST_F(RolloutDbTest, IsCreatedPrivateAndRefusesAnotherKelvinFile) {
  struct stat info {};
  ASSERT_EQ(::stat((dir_ / "rollouts.db").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ASSERT_TRUE(AccountDb::open(dir_ / "accounts.db").ok());
  auto opened = RolloutDb::open(dir_ / "accounts.db");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, Errc::corrupt);
  EXPECT_EQ(AccountDb::open(dir_ / "rollouts.db").error().code, Errc::corrupt);
}

TEST_F(RolloutDbTest, CreatesReadsAndCountsNewestFirst) {
  auto first = db_->create(thermo(), two_devices());
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = db_->create(thermo("2.0.0", "hygro"), {{.device = "d3", .wave = 1, .updated_ms = 1000}});
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_GT(*second, *first);

  auto list = db_->rollouts();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].rollout.id, *second);
  const RolloutRecord& r = (*list)[1].rollout;
  EXPECT_EQ(r.product, "thermo");
  EXPECT_EQ(r.version, "1.1.0");
  EXPECT_EQ(r.state, RolloutState::running);
  EXPECT_EQ(r.waves, (std::vector<int>{50, 100}));
  EXPECT_EQ(r.max_failure_percent, 20);
  EXPECT_EQ(r.created_by, "ann");
  EXPECT_EQ((*list)[1].counts[static_cast<std::size_t>(DeviceRolloutState::pending)], 2u);

  auto devices = db_->devices(*first);
  ASSERT_TRUE(devices.ok());
  ASSERT_EQ(devices->size(), 2u);
  EXPECT_EQ((*devices)[0].device, "d1");
  EXPECT_EQ((*devices)[1].wave, 2);
  EXPECT_FALSE(db_->rollout(99)->has_value());
}

TEST_F(RolloutDbTest, OneActiveRolloutPerProductAcrossConnections) {
  ASSERT_TRUE(db_->create(thermo(), two_devices()).ok());
  auto other = RolloutDb::open(dir_ / "rollouts.db");
  ASSERT_TRUE(other.ok());
  auto refused = other->create(thermo("1.2.0"), two_devices());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::conflict);
  EXPECT_TRUE(other->create(thermo("1.0.0", "hygro"), two_devices()).ok()) << "another product";
}

TEST_F(RolloutDbTest, SaveChangesOnlyWhatItReadAndCountsTheDevicesStates) {
  const std::int64_t id = *db_->create(thermo(), two_devices());
  RolloutRecord next = **db_->rollout(id);
  next.current_wave = 1;
  next.updated_ms = 2000;
  RolloutDeviceRecord d1{.device = "d1",
                         .wave = 1,
                         .state = DeviceRolloutState::downloading,
                         .percent = 42,
                         .reason = "",
                         .detail = "slow link",
                         .updated_ms = 2000};
  ASSERT_TRUE(*db_->save(next, RolloutState::running, {d1}));
  EXPECT_EQ((**db_->rollout(id)).current_wave, 1);
  auto devices = *db_->devices(id);
  EXPECT_EQ(devices[0].state, DeviceRolloutState::downloading);
  EXPECT_EQ(devices[0].percent, 42);
  EXPECT_EQ(devices[0].detail, "slow link");

  // kelvinctl pauses on its connection; the engine's save, made on what it read before, changes nothing.
  auto kelvinctl = RolloutDb::open(dir_ / "rollouts.db");
  RolloutRecord paused = next;
  paused.state = RolloutState::paused;
  ASSERT_TRUE(*kelvinctl->save(paused, RolloutState::running));
  RolloutRecord halted = next;
  halted.state = RolloutState::halted;
  d1.state = DeviceRolloutState::failed;
  EXPECT_FALSE(*db_->save(halted, RolloutState::running, {d1}));
  EXPECT_EQ((**db_->rollout(id)).state, RolloutState::paused);
  EXPECT_EQ((*db_->devices(id))[0].state, DeviceRolloutState::downloading);
  EXPECT_EQ(db_->save(RolloutRecord{.id = 99}, RolloutState::running).error().code, Errc::not_found);

  auto unfinished = db_->rollouts(/*unfinished_only=*/true);
  ASSERT_EQ(unfinished->size(), 1u);
  EXPECT_EQ((*unfinished)[0].counts[static_cast<std::size_t>(DeviceRolloutState::downloading)], 1u);
  RolloutRecord aborted = paused;
  aborted.state = RolloutState::aborted;
  ASSERT_TRUE(*db_->save(aborted, RolloutState::paused));
  EXPECT_EQ(db_->rollouts(true)->size(), 1u) << "aborted, its notices not cleared yet";
  aborted.notices_cleared = true;
  ASSERT_TRUE(*db_->save(aborted, RolloutState::aborted));
  EXPECT_TRUE(db_->rollouts(true)->empty());
  EXPECT_TRUE(db_->create(thermo("1.2.0"), two_devices()).ok()) << "the product is free again";
}

TEST_F(RolloutDbTest, ADeviceIsOfferedWhatItWasNotifiedOfInARunningOrPausedRollout) {
  const std::int64_t id = *db_->create(thermo(), two_devices());
  EXPECT_FALSE(db_->offer_for("d1")->has_value()) << "pending";
  RolloutRecord rollout = **db_->rollout(id);
  ASSERT_TRUE(*db_->save(rollout, RolloutState::running,
                         {{.device = "d1", .wave = 1, .state = DeviceRolloutState::notified, .updated_ms = 2}}));
  auto offer = db_->offer_for("d1");
  ASSERT_TRUE(offer.ok() && offer->has_value());
  EXPECT_EQ((*offer)->id, id);
  EXPECT_EQ((*offer)->version, "1.1.0");
  EXPECT_FALSE(db_->offer_for("d2")->has_value());
  EXPECT_FALSE(db_->offer_for("d9")->has_value());
  rollout.state = RolloutState::paused;
  ASSERT_TRUE(*db_->save(rollout, RolloutState::running));
  EXPECT_TRUE(db_->offer_for("d1")->has_value()) << "paused: devices already notified continue";
  RolloutRecord aborted = rollout;
  aborted.state = RolloutState::aborted;
  ASSERT_TRUE(*db_->save(aborted, RolloutState::paused));
  EXPECT_FALSE(db_->offer_for("d1")->has_value());
}

TEST_F(RolloutDbTest, AFailedUpdateCountsInTheDevicesNewestRolloutThatWasNotAborted) {
  const std::int64_t first = *db_->create(thermo(), two_devices());
  RolloutRecord rollout = **db_->rollout(first);
  ASSERT_TRUE(*db_->save(rollout, RolloutState::running,
                         {{.device = "d1",
                           .wave = 1,
                           .state = DeviceRolloutState::rolled_back,
                           .reason = "not_confirmed",
                           .updated_ms = 2},
                          {.device = "d2", .wave = 2, .state = DeviceRolloutState::confirmed, .updated_ms = 2}}));
  auto failed = db_->failed_updates();
  ASSERT_TRUE(failed.ok()) << failed.error().message;
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ((*failed)[0].rollout, first);
  EXPECT_EQ((*failed)[0].product, "thermo");
  EXPECT_EQ((*failed)[0].version, "1.1.0");
  EXPECT_EQ((*failed)[0].device.device, "d1");
  EXPECT_EQ((*failed)[0].device.state, DeviceRolloutState::rolled_back);
  EXPECT_EQ((*failed)[0].device.reason, "not_confirmed");

  // The rollout completes; a newer one that includes d1 stands for it from then on.
  rollout.state = RolloutState::completed;
  ASSERT_TRUE(*db_->save(rollout, RolloutState::running));
  EXPECT_EQ(db_->failed_updates()->size(), 1u) << "a completed rollout's failures stay";
  const std::int64_t second = *db_->create(thermo("1.2.0"), {{.device = "d1", .wave = 1, .updated_ms = 3}});
  EXPECT_TRUE(db_->failed_updates()->empty()) << "d1 is pending in rollout " << second;
  RolloutRecord retry = **db_->rollout(second);
  ASSERT_TRUE(*db_->save(retry, RolloutState::running,
                         {{.device = "d1", .wave = 1, .state = DeviceRolloutState::failed, .updated_ms = 4}}));
  ASSERT_EQ(db_->failed_updates()->size(), 1u);
  EXPECT_EQ((*db_->failed_updates())[0].rollout, second);
  // Aborted: the failure in the first rollout, the newest one left, counts again.
  retry.state = RolloutState::aborted;
  ASSERT_TRUE(*db_->save(retry, RolloutState::running));
  ASSERT_EQ(db_->failed_updates()->size(), 1u);
  EXPECT_EQ((*db_->failed_updates())[0].rollout, first);
}

TEST_F(RolloutDbTest, EachRolloutKeepsItsTarget) {
  RolloutRecord to_label = thermo();
  to_label.target = RolloutTarget::label;
  to_label.target_label = "greenhouse";
  const std::int64_t labelled = *db_->create(to_label, two_devices());
  RolloutRecord to_all = thermo("1.0.0", "hygro");
  to_all.target = RolloutTarget::all;
  const std::int64_t all = *db_->create(to_all, two_devices());
  EXPECT_EQ((*db_->rollout(labelled))->target, RolloutTarget::label);
  EXPECT_EQ((*db_->rollout(labelled))->target_label, "greenhouse");
  EXPECT_EQ((*db_->rollout(all))->target, RolloutTarget::all);
  EXPECT_EQ((*db_->rollout(all))->target_label, "");
  EXPECT_EQ(db_->rollouts()->front().rollout.target, RolloutTarget::all);

  RolloutRecord unnamed = thermo("1.0.0", "baro");
  unnamed.target = RolloutTarget::label;
  auto refused = db_->create(unnamed, two_devices());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::invalid_argument);
  RolloutRecord stray = thermo("1.0.0", "baro");
  stray.target = RolloutTarget::devices;
  stray.target_label = "greenhouse";
  EXPECT_FALSE(db_->create(stray, two_devices()).ok());
  EXPECT_EQ(db_->rollouts()->size(), 2u);
}

// Runs `sql` on `path` (created if missing) with sqlite3 itself; false and a failure on error.
bool raw_exec(const std::filesystem::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open(path.c_str(), &db);
  char* message = nullptr;
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) ADD_FAILURE() << sql << ": " << (message ? message : sqlite3_errmsg(db));
  sqlite3_free(message);
  sqlite3_close_v2(db);
  return rc == SQLITE_OK;
}

// Each row of `sql` as its columns' text joined by '|' (NULL as "NULL").
std::vector<std::string> raw_rows(const std::filesystem::path& path, const std::string& sql) {
  std::vector<std::string> rows;
  sqlite3* db = nullptr;
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
  }
  while (statement && sqlite3_step(statement) == SQLITE_ROW) {
    std::string row;
    for (int i = 0; i < sqlite3_column_count(statement); ++i) {
      const auto* text = sqlite3_column_text(statement, i);
      row += (i ? "|" : "") + (text ? std::string(reinterpret_cast<const char*>(text)) : std::string("NULL"));
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(statement);
  sqlite3_close_v2(db);
  return rows;
}

// The version 1 schema (kelvin up to rollout targets), verbatim. Never edit it: version 1 files
// look like this.
constexpr const char* kVersion1Sql = R"sql(
CREATE TABLE rollouts (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  product             TEXT NOT NULL,
  version             TEXT NOT NULL,
  state               TEXT NOT NULL CHECK (state IN ('running', 'paused', 'halted', 'aborted', 'completed')),
  waves               TEXT NOT NULL,
  max_failure_percent INTEGER NOT NULL,
  current_wave        INTEGER NOT NULL,
  failures_accepted   INTEGER NOT NULL,
  notices_cleared     INTEGER NOT NULL,
  created_by          TEXT NOT NULL,
  created_ms          INTEGER NOT NULL,
  updated_ms          INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX one_active_rollout_per_product ON rollouts (product)
  WHERE state IN ('running', 'paused', 'halted');

CREATE TABLE rollout_devices (
  rollout    INTEGER NOT NULL REFERENCES rollouts (id),
  device     TEXT NOT NULL,
  wave       INTEGER NOT NULL,
  state      TEXT NOT NULL CHECK (state IN ('pending', 'notified', 'downloading', 'installed', 'confirmed',
                                            'failed', 'rolled_back')),
  percent    INTEGER NOT NULL,
  reason     TEXT NOT NULL,
  detail     TEXT NOT NULL,
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY (rollout, device)
) STRICT, WITHOUT ROWID;
CREATE INDEX rollout_devices_by_device ON rollout_devices (device);
INSERT INTO rollouts VALUES (1, 'thermo', '1.1.0', 'completed', '50,100', 20, 2, 0, 0, 'ann', 1000, 5000);
INSERT INTO rollouts VALUES (2, 'thermo', '1.2.0', 'halted', '5,25,100', 10, 1, 1, 0, 'kelvinctl', 6000, 7000);
INSERT INTO rollout_devices VALUES (1, 'd1', 1, 'confirmed', 100, '', 'ok', 4000);
INSERT INTO rollout_devices VALUES (1, 'd2', 2, 'rolled_back', 0, 'not_confirmed', 'gone', 4500);
INSERT INTO rollout_devices VALUES (2, 'd1', 1, 'failed', 42, 'hash_mismatch', 'sha256 differs', 6500);
PRAGMA application_id = 1263294034; PRAGMA user_version = 1; PRAGMA journal_mode = WAL;
)sql";

constexpr const char* kVersion1Rollouts =
    "SELECT id, product, version, state, waves, max_failure_percent, current_wave, failures_accepted,"
    " notices_cleared, created_by, created_ms, updated_ms FROM rollouts ORDER BY id";
constexpr const char* kDevices = "SELECT * FROM rollout_devices ORDER BY rollout, device";
constexpr const char* kSchema =
    "SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name";

TEST(RolloutDbUpgrade, Version1KeepsEveryRolloutAndDeviceAndRecordsTargetsFromThenOn) {
  testing::TempDir dir;
  const auto path = dir / "rollouts.db";
  ASSERT_TRUE(raw_exec(path, kVersion1Sql));
  const auto rollouts_before = raw_rows(path, kVersion1Rollouts);
  const auto devices_before = raw_rows(path, kDevices);
  ASSERT_EQ(rollouts_before.size(), 2u);
  ASSERT_EQ(devices_before.size(), 3u);

  {
    auto db = RolloutDb::open(path);
    ASSERT_TRUE(db.ok()) << db.error().message;
    auto halted = db->rollout(2);
    ASSERT_TRUE(halted.ok() && halted->has_value());
    EXPECT_EQ((*halted)->target, RolloutTarget::unrecorded) << "how its devices were chosen was never recorded";
    EXPECT_EQ((*halted)->failures_accepted, 1);
    EXPECT_EQ((*halted)->device_timeout_ms, 0) << "no time limit for devices of a rollout started before there was one";
    EXPECT_EQ((*db->devices(2))[0].reason, "hash_mismatch");
    RolloutRecord next = thermo("1.3.0");
    next.target = RolloutTarget::label;
    next.target_label = "greenhouse";
    auto refused = db->create(next, two_devices());
    ASSERT_FALSE(refused.ok()) << "rollout 2 of thermo is still active: the unique index survived";
    EXPECT_EQ(refused.error().code, Errc::conflict);
    next.product = "hygro";
    auto created = db->create(next, two_devices());
    ASSERT_TRUE(created.ok()) << created.error().message;
    EXPECT_EQ((*db->rollout(*created))->target_label, "greenhouse");
  }

  EXPECT_EQ(raw_rows(path, "PRAGMA user_version"), std::vector<std::string>{"3"});
  auto rollouts_after = raw_rows(path, kVersion1Rollouts);
  ASSERT_EQ(rollouts_after.size(), 3u);
  rollouts_after.pop_back();
  EXPECT_EQ(rollouts_after, rollouts_before);
  auto devices_after = raw_rows(path, kDevices);
  devices_after.resize(devices_before.size());
  EXPECT_EQ(devices_after, devices_before);
  EXPECT_EQ(raw_rows(path, "SELECT id, target, target_label FROM rollouts ORDER BY id"),
            (std::vector<std::string>{"1|NULL|NULL", "2|NULL|NULL", "3|label|greenhouse"}));
  ASSERT_TRUE(RolloutDb::open(dir / "fresh.db").ok());
  EXPECT_EQ(raw_rows(path, kSchema), raw_rows(dir / "fresh.db", kSchema));
}

TEST(RolloutDbUpgrade, AFailedUpgradeLeavesTheFileAsItWas) {
  testing::TempDir dir;
  const auto path = dir / "rollouts.db";
  ASSERT_TRUE(raw_exec(path, kVersion1Sql));
  // Not quite version 1: the column is there already, so adding it fails.
  ASSERT_TRUE(raw_exec(path, "ALTER TABLE rollouts ADD COLUMN target TEXT;"));
  const auto schema = raw_rows(path, kSchema);
  const auto rollouts = raw_rows(path, "SELECT * FROM rollouts ORDER BY id");
  auto db = RolloutDb::open(path);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.error().message.find("from schema version 1 to 2"), std::string::npos) << db.error().message;
  EXPECT_NE(db.error().message.find(path.string()), std::string::npos) << db.error().message;
  EXPECT_EQ(raw_rows(path, "PRAGMA user_version"), std::vector<std::string>{"1"});
  EXPECT_EQ(raw_rows(path, kSchema), schema);
  EXPECT_EQ(raw_rows(path, "SELECT * FROM rollouts ORDER BY id"), rollouts);
}

}  // namespace
}  // namespace kelvin::store
