// Upgrading stores written by earlier versions: the released schema version 1 (kelvin up to
// 72cbb5b), development builds that wrote the export log under version 1, version 2 (before
// devices.claimed_floor), version 3 (values in `samples`), version 4 (before device labels),
// version 5 (before devices' release check verdicts), and what stays refused.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <functional>
#include <initializer_list>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "kelvin/testing/temp_dir.hpp"
#include "schema.hpp"
#include "store_test_support.hpp"

namespace kelvin::store {
namespace {

namespace fs = std::filesystem;
using kelvin::testing::TempDir;
using namespace kelvin::store::testing;

// The schema of the released kelvin (git show 72cbb5b:libs/store/src/schema.cpp), verbatim, with
// the marks and journal mode that release wrote. Never edit it: released files look like this.
constexpr const char* kReleasedVersion1Sql = R"sql(
CREATE TABLE devices (
  id                   INTEGER PRIMARY KEY,
  name                 TEXT NOT NULL UNIQUE,
  registered_ms        INTEGER,
  watermark            INTEGER NOT NULL DEFAULT 0 CHECK (watermark >= 0),
  last_seen_ms         INTEGER,
  readings_stored      INTEGER NOT NULL DEFAULT 0,
  rejected_total       INTEGER NOT NULL DEFAULT 0,
  status_state         TEXT,
  status_firmware      TEXT,
  status_dropped_total INTEGER,
  status_at_ms         INTEGER
) STRICT;

CREATE TABLE series (
  id       INTEGER PRIMARY KEY,
  device   INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  quantity TEXT NOT NULL,
  UNIQUE (device, quantity)
) STRICT;

CREATE TABLE readings (
  device INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  seq    INTEGER NOT NULL CHECK (seq >= 1),
  ts_ms  INTEGER NOT NULL,
  PRIMARY KEY (device, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX readings_by_time ON readings (device, ts_ms);

CREATE TABLE samples (
  series INTEGER NOT NULL REFERENCES series (id) ON DELETE CASCADE,
  ts_ms  INTEGER NOT NULL,
  seq    INTEGER NOT NULL,
  value  REAL NOT NULL,
  PRIMARY KEY (series, ts_ms, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE rollups (
  series          INTEGER NOT NULL REFERENCES series (id) ON DELETE CASCADE,
  width_ms        INTEGER NOT NULL CHECK (width_ms IN (60000, 3600000)),
  bucket_start_ms INTEGER NOT NULL,
  min_value       REAL NOT NULL,
  max_value       REAL NOT NULL,
  value_sum       REAL NOT NULL,
  value_count     INTEGER NOT NULL,
  last_ts_ms      INTEGER NOT NULL,
  last_seq        INTEGER NOT NULL,
  last_value      REAL NOT NULL,
  PRIMARY KEY (series, width_ms, bucket_start_ms)
) STRICT, WITHOUT ROWID;

CREATE TABLE rejected (
  device INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  seq    INTEGER NOT NULL CHECK (seq >= 1),
  reason TEXT NOT NULL,
  at_ms  INTEGER NOT NULL,
  PRIMARY KEY (device, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX rejected_by_time ON rejected (device, at_ms);

CREATE TABLE retention_horizons (
  resolution TEXT PRIMARY KEY CHECK (resolution IN ('raw', 'minute', 'hour')),
  horizon_ms INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
)sql";
constexpr const char* kReleasedVersion1Marks =
    "PRAGMA application_id = 1263294030; PRAGMA user_version = 1; PRAGMA journal_mode = WAL;";  // "KLVN"

// Data as the released gateway wrote it, through raw SQL. Internal device ids are not in name order
// (sensor-b is 1, sensor-a is 2), and sensor-b's seqs 1 and 2 share a timestamp with sensor-a's
// seqs 1 and 2, so the export order (ts_ms, device id, seq) differs from every other order of
// these columns and from name order. sensor-a's seq 5 waits above its watermark 2 (seqs 3 and 4
// missing); sensor-b's seq 3 was rejected.
constexpr const char* kReleasedVersion1Data = R"sql(
INSERT INTO devices VALUES (1, 'sensor-b', 1735603200000, 4, 1735689603000, 3, 1, 'online', '1.2.0', 7, 1735689605000);
INSERT INTO devices VALUES (2, 'sensor-a', NULL, 2, 1735689600000, 3, 0, 'offline', '1.1.0', 2, 1735689606000);
INSERT INTO devices VALUES (3, 'sensor-c', 1735516800000, 0, NULL, 0, 0, NULL, NULL, NULL, NULL);
INSERT INTO series VALUES (1, 1, 'temperature'), (2, 1, 'humidity'), (3, 2, 'temperature');
INSERT INTO readings VALUES (1, 1, 1735689600000), (1, 2, 1735689600000), (1, 4, 1735689603000),
                            (2, 1, 1735689600000), (2, 2, 1735689600000), (2, 5, 1735689540000);
INSERT INTO samples VALUES (1, 1735689600000, 1, 20.5), (2, 1735689600000, 1, 40.0),
                           (1, 1735689600000, 2, 21.0),
                           (1, 1735689603000, 4, 21.5), (2, 1735689603000, 4, 41.0),
                           (3, 1735689600000, 1, 19.0), (3, 1735689600000, 2, 19.5),
                           (3, 1735689540000, 5, 18.0);
INSERT INTO rollups VALUES
  (1, 60000, 1735689600000, 20.5, 21.5, 63.0, 3, 1735689603000, 4, 21.5),
  (1, 3600000, 1735689600000, 20.5, 21.5, 63.0, 3, 1735689603000, 4, 21.5),
  (2, 60000, 1735689600000, 40.0, 41.0, 81.0, 2, 1735689603000, 4, 41.0),
  (2, 3600000, 1735689600000, 40.0, 41.0, 81.0, 2, 1735689603000, 4, 41.0),
  (3, 60000, 1735689540000, 18.0, 18.0, 18.0, 1, 1735689540000, 5, 18.0),
  (3, 60000, 1735689600000, 19.0, 19.5, 38.5, 2, 1735689600000, 2, 19.5),
  (3, 3600000, 1735686000000, 18.0, 18.0, 18.0, 1, 1735689540000, 5, 18.0),
  (3, 3600000, 1735689600000, 19.0, 19.5, 38.5, 2, 1735689600000, 2, 19.5);
INSERT INTO rejected VALUES (1, 3, 'out_of_range', 1735689602000);
INSERT INTO retention_horizons VALUES ('raw', 1735686000000);
)sql";

// The readings above in export order, as read_export_batch gives them.
struct Expected {
  const char* device_id;
  proto::Reading reading;
};
std::vector<Expected> released_readings_in_export_order() {
  return {
      {"sensor-a", reading(5, kT0 - kMinute, 18.0)}, {"sensor-b", reading(1, kT0, 20.5, 40.0)},
      {"sensor-b", reading(2, kT0, 21.0)},           {"sensor-a", reading(1, kT0, 19.0)},
      {"sensor-a", reading(2, kT0, 19.5)},           {"sensor-b", reading(4, kT0 + 3 * kSecond, 21.5, 41.0)},
  };
}

// ---- Looking at the file without the store ----

using Value = std::variant<std::monostate, std::int64_t, double, std::string>;
using Rows = std::vector<std::vector<Value>>;

// Every row of `sql`, each column with its SQLite type, so a changed type or value shows.
Rows rows_of(const fs::path& path, const std::string& sql) {
  Rows rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errmsg(db);
    sqlite3_close_v2(db);
    return rows;
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
    sqlite3_close_v2(db);
    return rows;
  }
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    std::vector<Value> row;
    for (int column = 0; column < sqlite3_column_count(stmt); ++column) {
      switch (sqlite3_column_type(stmt, column)) {
        case SQLITE_INTEGER:
          row.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(stmt, column)));
          break;
        case SQLITE_FLOAT:
          row.emplace_back(sqlite3_column_double(stmt, column));
          break;
        case SQLITE_NULL:
          row.emplace_back(std::monostate{});
          break;
        default: {
          const unsigned char* text = sqlite3_column_text(stmt, column);
          row.emplace_back(std::string(reinterpret_cast<const char*>(text),
                                       static_cast<std::size_t>(sqlite3_column_bytes(stmt, column))));
        }
      }
    }
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  sqlite3_close_v2(db);
  return rows;
}

Rows schema_of(const fs::path& path) {
  return rows_of(path, "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name");
}

// Every stored value as (series, ts_ms, seq, value): from `samples` up to version 3, from the
// readings' value columns from version 4 on, so the same rows before and after an upgrade.
constexpr const char* kValuesFromReadings =
    "SELECT series.id, readings.ts_ms, readings.seq, readings.temperature FROM readings"
    " JOIN series ON series.device = readings.device AND series.quantity = 'temperature'"
    " WHERE readings.temperature IS NOT NULL"
    " UNION ALL SELECT series.id, readings.ts_ms, readings.seq, readings.humidity FROM readings"
    " JOIN series ON series.device = readings.device AND series.quantity = 'humidity'"
    " WHERE readings.humidity IS NOT NULL ORDER BY 1, 2, 3";
Rows values_of(const fs::path& path) {
  const bool has_samples = !rows_of(path, "SELECT 1 FROM sqlite_schema WHERE name = 'samples'").empty();
  return rows_of(path, has_samples ? "SELECT * FROM samples ORDER BY series, ts_ms, seq" : kValuesFromReadings);
}

// The rollups of the widths up to version 7 (minute and hour): every upgrade keeps them as they
// were; version 8 adds 8-hour rollups beside them, checked on their own.
constexpr const char* kRollupsVersion7Rows =
    "SELECT * FROM rollups WHERE width_ms IN (60000, 3600000) ORDER BY series, width_ms, bucket_start_ms";

// Replaces `from` by `to` in the rollups table's stored definition, by the procedure the upgrade
// to version 8 edits it with (the schema cookie goes up, so every connection reads it again).
void edit_rollups_definition(RawDatabase& raw, const std::string& from, const std::string& to) {
  const std::int64_t cookie = raw.integer("PRAGMA schema_version");
  raw.exec("PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = replace(sql, '" + from + "', '" + to +
           "') WHERE type = 'table' AND name = 'rollups'; PRAGMA schema_version = " + std::to_string(cookie + 1) +
           "; PRAGMA writable_schema = OFF;");
}

// Takes back what version 8 added to a store of a later version: its 8-hour rollups, and their
// width in the CHECK on rollups.width_ms.
void remove_version_8(RawDatabase& raw) {
  raw.exec("DELETE FROM rollups WHERE width_ms = 28800000;");
  edit_rollups_definition(raw, "CHECK (width_ms IN (60000, 3600000, 28800000))",
                          "CHECK (width_ms IN (60000, 3600000))");
}

// The data the upgrades keep as it was: the tables they leave alone, whole, except that version 3
// adds a column to devices (checked on its own), so devices is listed by its version 1 and 2
// columns; and every value, which version 4 moves into `readings`.
constexpr const char* kDevicesVersion2Columns =
    "SELECT id, name, registered_ms, watermark, last_seen_ms, readings_stored, rejected_total, status_state,"
    " status_firmware, status_dropped_total, status_at_ms FROM devices ORDER BY id";
const std::vector<std::string>& untouched_table_dumps() {
  static const std::vector<std::string> queries = {
      kDevicesVersion2Columns,
      "SELECT * FROM series ORDER BY id",
      kRollupsVersion7Rows,
      "SELECT * FROM rejected ORDER BY device, seq",
      "SELECT * FROM retention_horizons ORDER BY resolution",
  };
  return queries;
}
std::vector<Rows> dump_untouched_tables(const fs::path& path) {
  std::vector<Rows> dumps;
  for (const auto& query : untouched_table_dumps()) dumps.push_back(rows_of(path, query));
  dumps.push_back(values_of(path));
  return dumps;
}

constexpr const char* kReadingIdentities = "SELECT device, seq, ts_ms FROM readings ORDER BY device, seq";
constexpr const char* kReadingsWithPositions =
    "SELECT device, seq, ts_ms, export_position, committed_ms FROM readings ORDER BY device, seq";

void write_released_version_1(const fs::path& path, const std::string& extra_sql = {}) {
  {
    sqlite3* db = nullptr;  // creates the file, which RawDatabase does not
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) ADD_FAILURE() << "cannot create " << path;
    sqlite3_close_v2(db);
  }
  RawDatabase raw(path);
  raw.exec(kReleasedVersion1Sql);
  raw.exec(kReleasedVersion1Data);
  if (!extra_sql.empty()) raw.exec(extra_sql);
  raw.exec(kReleasedVersion1Marks);
}

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Opens and closes the store: false, and a test failure saying why, if it cannot be opened.
bool opens(const fs::path& path) {
  auto store = Store::open(path);
  if (!store) ADD_FAILURE() << store.error().message;
  return store.ok();
}

ExportBatch read_all(Store& store, std::uint64_t after = 0) {
  auto batch = store.read_export_batch(after, 1000);
  EXPECT_TRUE(batch.ok()) << batch.error().message;
  return batch.ok() ? std::move(*batch) : ExportBatch{};
}

using Dump = std::function<std::vector<Rows>(const fs::path&)>;

// Opening `path` fails in the upgrade from `version`: the error names the file, the step
// ("version N to N+1") and `cause`, and the file keeps its version, its schema and what `dump`
// reads of it.
void expect_failed_upgrade_changes_nothing(const fs::path& path, std::int64_t version, const std::string& cause,
                                           const Dump& dump) {
  const auto schema = schema_of(path);
  const auto data = dump(path);

  auto store = Store::open(path);
  ASSERT_FALSE(store.ok());
  const std::string& message = store.error().message;
  EXPECT_NE(message.find(path.string()), std::string::npos) << message;
  const std::string step = "version " + std::to_string(version) + " to " + std::to_string(version + 1);
  EXPECT_NE(message.find(step), std::string::npos) << message;
  EXPECT_NE(message.find(cause), std::string::npos) << message;

  RawDatabase raw(path);
  EXPECT_EQ(raw.integer("PRAGMA user_version"), version);
  EXPECT_EQ(schema_of(path), schema);
  EXPECT_EQ(dump(path), data);
}

// ---- Released version 1 ----

TEST(StoreMigration, ReleasedVersion1KeepsEveryRowAndField) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  write_released_version_1(path);
  const auto untouched_before = dump_untouched_tables(path);
  const auto readings_before = rows_of(path, kReadingIdentities);
  ASSERT_EQ(readings_before.size(), 6u);

  {
    auto opened = Store::open(path);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    Store& store = *opened;
    auto b = store.device("sensor-b");
    ASSERT_TRUE(b.ok() && b->has_value());
    const DeviceInfo& info = **b;
    EXPECT_EQ(info.registered_ms, kT0 - kDay);
    EXPECT_EQ(info.last_seen_ms, kT0 + 3 * kSecond);
    EXPECT_EQ(info.acked_seq, 4u);
    EXPECT_EQ(info.readings_stored, 3u);
    EXPECT_EQ(info.rejected_total, 1u);
    ASSERT_TRUE(info.status.has_value());
    EXPECT_EQ(info.status->state, "online");
    EXPECT_EQ(info.status->firmware, "1.2.0");
    EXPECT_EQ(info.status->dropped_total, 7u);
    EXPECT_EQ(info.status->at_ms, kT0 + 5 * kSecond);
    EXPECT_EQ(info.last_reading, reading(4, kT0 + 3 * kSecond, 21.5, 41.0));

    auto a = store.device("sensor-a");
    ASSERT_TRUE(a.ok() && a->has_value());
    EXPECT_EQ((*a)->registered_ms, 0);
    EXPECT_EQ((*a)->acked_seq, 2u);
    ASSERT_TRUE((*a)->status.has_value());
    EXPECT_EQ((*a)->status->state, "offline");
    auto c = store.device("sensor-c");
    ASSERT_TRUE(c.ok() && c->has_value());
    EXPECT_EQ((*c)->registered_ms, kT0 - 2 * kDay);
    EXPECT_FALSE((*c)->status.has_value());

    // The rollups answer queries as before: minute and hour buckets straight from their rows.
    auto minutes = store.query(
        query_of("sensor-a", proto::Quantity::temperature, kT0 - kHour, kT0 + kHour, kMinute, Resolution::minute));
    ASSERT_TRUE(minutes.ok()) << minutes.error().message;
    ASSERT_EQ(minutes->buckets.size(), 2u);
    EXPECT_EQ(minutes->buckets[0].start_ms, kT0 - kMinute);
    EXPECT_EQ(minutes->buckets[1].count, 2u);
    EXPECT_DOUBLE_EQ(minutes->buckets[1].mean, 19.25);
    auto hours =
        store.query(query_of("sensor-b", proto::Quantity::humidity, kT0, kT0 + kHour, kHour, Resolution::hour));
    ASSERT_TRUE(hours.ok()) << hours.error().message;
    ASSERT_EQ(hours->buckets.size(), 1u);
    EXPECT_EQ(hours->buckets[0].count, 2u);
    EXPECT_DOUBLE_EQ(hours->buckets[0].last, 41.0);
  }

  RawDatabase raw(path);
  EXPECT_EQ(raw.integer("PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(raw.integer("PRAGMA application_id"), 0x4B4C564E);
  EXPECT_EQ(dump_untouched_tables(path), untouched_before);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM devices WHERE claimed_floor <> 0"), 0) << "no device holds a claim";
  EXPECT_EQ(rows_of(path, kReadingIdentities), readings_before);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM export_cursors"), 0);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM consumed_elsewhere"), 0);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM sqlite_schema WHERE name = 'readings_version_1'"), 0);
  EXPECT_EQ(raw.text("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(raw.integer("SELECT count(*) FROM pragma_foreign_key_check"), 0);
}

TEST(StoreMigration, ReleasedVersion1GetsTheSchemaOfAFreshStore) {
  TempDir tmp;
  write_released_version_1(tmp / "old.db");
  ASSERT_TRUE(opens(tmp / "old.db"));
  ASSERT_TRUE(opens(tmp / "fresh.db"));
  // Every table, index and their SQL text: nothing left out, nothing left over.
  EXPECT_EQ(schema_of(tmp / "old.db"), schema_of(tmp / "fresh.db"));
}

TEST(StoreMigration, ExportLogHoldsTheWholeHistoryOldestFirst) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  write_released_version_1(path);
  const std::int64_t before_ms = wall_clock_ms();
  auto opened = Store::open(path);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  Store& store = *opened;
  const std::int64_t after_ms = wall_clock_ms();

  auto batch = read_all(store);
  const auto expected = released_readings_in_export_order();
  ASSERT_EQ(batch.readings.size(), expected.size());
  EXPECT_EQ(batch.expired, 0u);
  EXPECT_EQ(batch.end_position, expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(batch.readings[i].position, i + 1) << i;
    EXPECT_EQ(batch.readings[i].device_id, expected[i].device_id) << i;
    EXPECT_EQ(batch.readings[i].reading, expected[i].reading) << i;
  }

  // No exporter has a cursor yet: all of it is backlog, committed (as far as known) at the upgrade.
  auto cursor = store.export_cursor("influxdb");
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(*cursor, 0u);
  auto backlog = store.export_backlog(0);
  ASSERT_TRUE(backlog.ok()) << backlog.error().message;
  EXPECT_EQ(backlog->readings, expected.size());
  ASSERT_TRUE(backlog->oldest_committed_ms.has_value());
  EXPECT_GE(*backlog->oldest_committed_ms, before_ms);
  EXPECT_LE(*backlog->oldest_committed_ms, after_ms);
  RawDatabase raw(path);
  EXPECT_EQ(raw.integer("SELECT value FROM counters WHERE name = 'export_position'"), 6);
  EXPECT_EQ(raw.integer("SELECT count(DISTINCT committed_ms) FROM readings"), 1);
}

TEST(StoreMigration, UpgradedStoreIngestsAfterItsHistory) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  write_released_version_1(path);
  auto opened = Store::open(path);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  Store& store = *opened;

  // Migrated readings are still duplicates: below the ack (b/1, b/4), rejected (b/3), or waiting
  // above the ack (a/5, known only from its readings row).
  IngestBatch again = batch_of("sensor-b", {reading(1, kT0, 20.5, 40.0), reading(3, kT0 + 2 * kSecond, 1.0),
                                            reading(4, kT0 + 3 * kSecond, 21.5)});
  again.readings.push_back(DeviceReading{"sensor-a", reading(5, kT0 - kMinute, 18.0)});
  again.readings.push_back(DeviceReading{"sensor-a", reading(3, kT0 + 10 * kSecond, 22.0)});
  CommitSummary first = commit_ok(store, again, kT0 + kHour);
  EXPECT_EQ(first.stored, 1u);
  EXPECT_EQ(first.duplicates, 4u);
  EXPECT_EQ(ack_of(first, "sensor-b"), 4u);
  EXPECT_EQ(ack_of(first, "sensor-a"), 3u);

  // Filling the gap lets the ack jump over the migrated seq 5.
  CommitSummary second = commit_ok(store, batch_of("sensor-a", {reading(4, kT0 + 11 * kSecond, 22.5)}), kT0 + kHour);
  EXPECT_EQ(second.stored, 1u);
  EXPECT_EQ(ack_of(second, "sensor-a"), 5u);

  auto batch = read_all(store, 6);
  ASSERT_EQ(batch.readings.size(), 2u);
  EXPECT_EQ(batch.readings[0].position, 7u);
  EXPECT_EQ(batch.readings[0].reading, reading(3, kT0 + 10 * kSecond, 22.0));
  EXPECT_EQ(batch.readings[1].position, 8u);
  EXPECT_EQ(batch.readings[1].reading, reading(4, kT0 + 11 * kSecond, 22.5));
  EXPECT_EQ(read_all(store).readings.size(), 8u) << "each reading once";

  auto data = store.query(query_of("sensor-a", proto::Quantity::temperature, kT0, kT0 + kMinute, kMinute));
  ASSERT_TRUE(data.ok()) << data.error().message;
  ASSERT_EQ(data->buckets.size(), 1u);
  EXPECT_EQ(data->buckets[0].count, 4u);  // two migrated, two new, in the same minute rollup
}

TEST(StoreMigration, OpeningAnUpgradedStoreAgainChangesNothing) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  write_released_version_1(path);
  ASSERT_TRUE(opens(path));
  const auto schema = schema_of(path);
  const auto readings = rows_of(path, kReadingsWithPositions);
  const auto counters = rows_of(path, "SELECT * FROM counters");
  const auto untouched = dump_untouched_tables(path);
  {
    auto opened = Store::open(path);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    Store& store = *opened;
    EXPECT_EQ(read_all(store).end_position, 6u);
  }
  EXPECT_EQ(schema_of(path), schema);
  EXPECT_EQ(rows_of(path, kReadingsWithPositions), readings);
  EXPECT_EQ(rows_of(path, "SELECT * FROM counters"), counters);
  EXPECT_EQ(dump_untouched_tables(path), untouched);
}

TEST(StoreMigration, ConcurrentOpenersUpgradeOnce) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  write_released_version_1(path);

  // Holding the write lock while the openers start makes them all read version 1 before any of
  // them can migrate; each must then find, under the lock, that another one already did.
  constexpr int kOpeners = 4;
  std::vector<Result<void>> results(kOpeners);
  std::vector<std::thread> openers;
  {
    RawDatabase lock(path);
    lock.exec("BEGIN IMMEDIATE");
    for (int i = 0; i < kOpeners; ++i) {
      openers.emplace_back([&results, &path, i] {
        auto store = Store::open(path);
        if (!store) results[static_cast<std::size_t>(i)] = store.error();
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    lock.exec("ROLLBACK");
  }
  for (auto& opener : openers) opener.join();
  for (const auto& result : results) EXPECT_TRUE(result.ok()) << result.error().message;

  auto opened = Store::open(path);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  Store& store = *opened;
  auto batch = read_all(store);
  ASSERT_EQ(batch.readings.size(), 6u);
  EXPECT_EQ(batch.end_position, 6u);
  RawDatabase raw(path);
  EXPECT_EQ(raw.integer("SELECT value FROM counters WHERE name = 'export_position'"), 6);
}

TEST(StoreMigration, FailedUpgradeLeavesTheFileAsItWas) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  // Not quite the released schema: the migration's last step (creating consumed_elsewhere) fails,
  // after readings was rebuilt.
  write_released_version_1(path, "CREATE TABLE consumed_elsewhere (x INTEGER);");
  expect_failed_upgrade_changes_nothing(path, 1, "consumed_elsewhere", [](const fs::path& file) {
    auto dumps = dump_untouched_tables(file);
    dumps.push_back(rows_of(file, kReadingIdentities));
    return dumps;
  });
  RawDatabase raw(path);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM pragma_table_info('readings') WHERE name = 'export_position'"), 0);
}

TEST(StoreMigration, Version1WithHalfTheExportColumnsIsRefused) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  ASSERT_TRUE(opens(path));
  {
    RawDatabase raw(path);
    raw.exec("ALTER TABLE readings DROP COLUMN committed_ms; PRAGMA user_version = 1;");
  }
  auto store = Store::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::corrupt);
  RawDatabase raw(path);
  EXPECT_EQ(raw.integer("PRAGMA user_version"), 1);
}

// ---- What stays refused ----

TEST(StoreMigration, NewerVersionIsStillAConflict) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  ASSERT_TRUE(opens(path));
  {
    RawDatabase raw(path);
    raw.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion + 1));
  }
  auto store = Store::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::conflict);
  EXPECT_NE(store.error().message.find("version " + std::to_string(kSchemaVersion + 1)), std::string::npos)
      << store.error().message;
  EXPECT_NE(store.error().message.find("upgrade kelvin"), std::string::npos) << store.error().message;
  RawDatabase raw(path);
  EXPECT_EQ(raw.integer("PRAGMA user_version"), kSchemaVersion + 1);
}

TEST(StoreMigration, Version0WithOurMarkIsStillCorrupt) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  ASSERT_TRUE(opens(path));
  {
    RawDatabase raw(path);
    raw.exec("PRAGMA user_version = 0");
  }
  auto store = Store::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::corrupt);
  EXPECT_NE(store.error().message.find("version 0"), std::string::npos) << store.error().message;
}

// ---- Version 2's tables in a fresh store ----

TEST(StoreMigration, FreshStoreHasConsumedElsewhere) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  {
    auto opened = Store::open(path);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    Store& store = *opened;
    commit_ok(store, batch_of("sensor-1", sequence(1, 1, kT0)), kT0);
  }
  RawDatabase raw(path);
  EXPECT_EQ(raw.integer("PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(
      rows_of(path, "SELECT name, type, \"notnull\", pk FROM pragma_table_info('consumed_elsewhere') ORDER BY cid"),
      (Rows{{std::string("device"), std::string("INTEGER"), std::int64_t{1}, std::int64_t{1}},
            {std::string("first_seq"), std::string("INTEGER"), std::int64_t{1}, std::int64_t{2}},
            {std::string("last_seq"), std::string("INTEGER"), std::int64_t{1}, std::int64_t{0}}}));
  EXPECT_EQ(raw.integer("SELECT wr FROM pragma_table_list WHERE name = 'consumed_elsewhere'"), 1);
  EXPECT_EQ(raw.integer("SELECT strict FROM pragma_table_list WHERE name = 'consumed_elsewhere'"), 1);

  EXPECT_EQ(exec_code(path, "INSERT INTO consumed_elsewhere VALUES (1, 2, 9)"), SQLITE_OK);
  EXPECT_EQ(exec_code(path, "INSERT INTO consumed_elsewhere VALUES (1, 2, 12)") & 0xff, SQLITE_CONSTRAINT);
  EXPECT_EQ(exec_code(path, "INSERT INTO consumed_elsewhere VALUES (1, 0, 3)") & 0xff, SQLITE_CONSTRAINT);
  EXPECT_EQ(exec_code(path, "INSERT INTO consumed_elsewhere VALUES (1, 20, 19)") & 0xff, SQLITE_CONSTRAINT);
  EXPECT_EQ(exec_code(path, "INSERT INTO consumed_elsewhere VALUES (99, 1, 1)") & 0xff, SQLITE_CONSTRAINT);
  EXPECT_EQ(exec_code(path, "DELETE FROM devices WHERE id = 1"), SQLITE_OK);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM consumed_elsewhere"), 0) << "deleting the device cascades";
}

// ---- Version 2: devices gain claimed_floor ----

// The version 2 schema (git show 495cece:libs/store/src/schema.cpp, the statements create_schema
// ran), verbatim. Never edit it: version 2 files look like this.
constexpr const char* kVersion2Sql = R"sql(
CREATE TABLE devices (
  id                   INTEGER PRIMARY KEY,
  name                 TEXT NOT NULL UNIQUE,
  registered_ms        INTEGER,
  watermark            INTEGER NOT NULL DEFAULT 0 CHECK (watermark >= 0),
  last_seen_ms         INTEGER,
  readings_stored      INTEGER NOT NULL DEFAULT 0,
  rejected_total       INTEGER NOT NULL DEFAULT 0,
  status_state         TEXT,
  status_firmware      TEXT,
  status_dropped_total INTEGER,
  status_at_ms         INTEGER
) STRICT;

CREATE TABLE series (
  id       INTEGER PRIMARY KEY,
  device   INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  quantity TEXT NOT NULL,
  UNIQUE (device, quantity)
) STRICT;

CREATE TABLE samples (
  series INTEGER NOT NULL REFERENCES series (id) ON DELETE CASCADE,
  ts_ms  INTEGER NOT NULL,
  seq    INTEGER NOT NULL,
  value  REAL NOT NULL,
  PRIMARY KEY (series, ts_ms, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE rollups (
  series          INTEGER NOT NULL REFERENCES series (id) ON DELETE CASCADE,
  width_ms        INTEGER NOT NULL CHECK (width_ms IN (60000, 3600000)),
  bucket_start_ms INTEGER NOT NULL,
  min_value       REAL NOT NULL,
  max_value       REAL NOT NULL,
  value_sum       REAL NOT NULL,
  value_count     INTEGER NOT NULL,
  last_ts_ms      INTEGER NOT NULL,
  last_seq        INTEGER NOT NULL,
  last_value      REAL NOT NULL,
  PRIMARY KEY (series, width_ms, bucket_start_ms)
) STRICT, WITHOUT ROWID;

CREATE TABLE rejected (
  device INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  seq    INTEGER NOT NULL CHECK (seq >= 1),
  reason TEXT NOT NULL,
  at_ms  INTEGER NOT NULL,
  PRIMARY KEY (device, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX rejected_by_time ON rejected (device, at_ms);

CREATE TABLE retention_horizons (
  resolution TEXT PRIMARY KEY CHECK (resolution IN ('raw', 'minute', 'hour')),
  horizon_ms INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE readings (
  device INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  seq    INTEGER NOT NULL CHECK (seq >= 1),
  ts_ms  INTEGER NOT NULL,
  export_position INTEGER NOT NULL,
  committed_ms    INTEGER NOT NULL,
  PRIMARY KEY (device, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX readings_by_time ON readings (device, ts_ms);
CREATE UNIQUE INDEX readings_by_export_position ON readings (export_position);

CREATE TABLE export_cursors (
  exporter   TEXT PRIMARY KEY,
  position   INTEGER NOT NULL CHECK (position >= 0),
  updated_ms INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE counters (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE consumed_elsewhere (
  device    INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  first_seq INTEGER NOT NULL CHECK (first_seq >= 1),
  last_seq  INTEGER NOT NULL CHECK (last_seq >= first_seq),
  PRIMARY KEY (device, first_seq)
) STRICT, WITHOUT ROWID;
)sql";
constexpr const char* kVersion2Marks =
    "PRAGMA application_id = 1263294030; PRAGMA user_version = 2; PRAGMA journal_mode = WAL;";

// sensor-b: 1, 2 and 4 stored, 3 rejected, ack 4. sensor-a: 1 and 2 stored, ack 2; 5 stored and
// 7..9 consumed by a peer gateway, both waiting above the gap at 3..4. sensor-c: registered only.
// The exporter has delivered positions 1..4 of 6.
constexpr const char* kVersion2Data = R"sql(
INSERT INTO devices VALUES (1, 'sensor-b', 1735603200000, 4, 1735689603000, 3, 1, 'online', '1.2.0', 7, 1735689605000);
INSERT INTO devices VALUES (2, 'sensor-a', NULL, 2, 1735689604000, 3, 0, 'offline', '1.1.0', 2, 1735689606000);
INSERT INTO devices VALUES (3, 'sensor-c', 1735516800000, 0, NULL, 0, 0, NULL, NULL, NULL, NULL);
INSERT INTO series VALUES (1, 1, 'temperature'), (2, 2, 'temperature');
INSERT INTO readings VALUES (1, 1, 1735689600000, 1, 1735689601000), (1, 2, 1735689601000, 2, 1735689601000),
                            (2, 1, 1735689600000, 3, 1735689601000), (2, 2, 1735689601000, 4, 1735689601000),
                            (1, 4, 1735689603000, 5, 1735689604000), (2, 5, 1735689604000, 6, 1735689604000);
INSERT INTO samples VALUES (1, 1735689600000, 1, 20.5), (1, 1735689601000, 2, 21.0), (1, 1735689603000, 4, 21.5),
                           (2, 1735689600000, 1, 19.0), (2, 1735689601000, 2, 19.5), (2, 1735689604000, 5, 18.0);
INSERT INTO rollups VALUES
  (1, 60000, 1735689600000, 20.5, 21.5, 63.0, 3, 1735689603000, 4, 21.5),
  (1, 3600000, 1735689600000, 20.5, 21.5, 63.0, 3, 1735689603000, 4, 21.5),
  (2, 60000, 1735689600000, 18.0, 19.5, 56.5, 3, 1735689604000, 5, 18.0),
  (2, 3600000, 1735689600000, 18.0, 19.5, 56.5, 3, 1735689604000, 5, 18.0);
INSERT INTO rejected VALUES (1, 3, 'out_of_range', 1735689602000);
INSERT INTO retention_horizons VALUES ('raw', 1735686000000);
INSERT INTO export_cursors VALUES ('influxdb', 4, 1735689605000);
INSERT INTO counters VALUES ('export_position', 6);
INSERT INTO consumed_elsewhere VALUES (2, 7, 9);
)sql";

void write_version_2(const fs::path& path, const std::string& extra_sql = {}) {
  {
    sqlite3* db = nullptr;  // creates the file, which RawDatabase does not
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) ADD_FAILURE() << "cannot create " << path;
    sqlite3_close_v2(db);
  }
  RawDatabase raw(path);
  raw.exec(kVersion2Sql);
  raw.exec(kVersion2Data);
  if (!extra_sql.empty()) raw.exec(extra_sql);
  raw.exec(kVersion2Marks);
}

// Each query's rows, in order.
std::vector<Rows> rows_of_each(const fs::path& path, std::initializer_list<const char*> queries) {
  std::vector<Rows> dumps;
  for (const char* query : queries) dumps.push_back(rows_of(path, query));
  return dumps;
}

// The counters of a file before version 7 (which adds rollup_position, checked on its own).
constexpr const char* kCountersBeforeVersion7 = "SELECT * FROM counters WHERE name <> 'rollup_position' ORDER BY name";

// Every table a version 2 file has, whole, but devices by its version 2 columns.
std::vector<Rows> dump_version_2_tables(const fs::path& path) {
  std::vector<Rows> dumps = dump_untouched_tables(path);
  for (auto& rows :
       rows_of_each(path, {kReadingsWithPositions, "SELECT * FROM export_cursors ORDER BY exporter",
                           kCountersBeforeVersion7, "SELECT * FROM consumed_elsewhere ORDER BY device, first_seq"})) {
    dumps.push_back(std::move(rows));
  }
  return dumps;
}

TEST(StoreMigration, Version2KeepsEveryRowAndNoDeviceHoldsAClaim) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  write_version_2(path);
  const auto before = dump_version_2_tables(path);
  ASSERT_EQ(before[0].size(), 3u);  // devices

  ASSERT_TRUE(opens(path));
  RawDatabase raw(path);
  EXPECT_EQ(raw.integer("PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(raw.integer("PRAGMA application_id"), 0x4B4C564E);
  EXPECT_EQ(dump_version_2_tables(path), before);
  EXPECT_EQ(
      rows_of(path, "SELECT id, claimed_floor FROM devices ORDER BY id"),
      (Rows{
          {std::int64_t{1}, std::int64_t{0}}, {std::int64_t{2}, std::int64_t{0}}, {std::int64_t{3}, std::int64_t{0}}}));
  EXPECT_EQ(raw.text("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(raw.integer("SELECT count(*) FROM pragma_foreign_key_check"), 0);

  // Every table, index and their SQL text: the same as a store created by this build.
  ASSERT_TRUE(opens(tmp / "fresh.db"));
  EXPECT_EQ(schema_of(path), schema_of(tmp / "fresh.db"));

  // Opening the upgraded store again changes nothing.
  const auto schema = schema_of(path);
  ASSERT_TRUE(opens(path));
  EXPECT_EQ(schema_of(path), schema);
  EXPECT_EQ(dump_version_2_tables(path), before);
}

TEST(StoreMigration, UpgradedVersion2StoreHoldsClaimsOnTopOfItsProgress) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  write_version_2(path);
  auto opened = Store::open(path);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  Store& store = *opened;

  // sensor-a claims it holds nothing below 12. Consumed so far: up to 2, then 5 and (a peer's) 7..9;
  // so 3, 4 and 6 are given up, and 10 and 11 wait until a seq at or above them arrives.
  IngestBatch claim;
  claim.floors.push_back(SeqFloor{"sensor-a", 12});
  CommitSummary claimed = commit_ok(store, claim, kT0 + kMinute);
  EXPECT_EQ(claimed.given_up, 3u);
  EXPECT_EQ(ack_of(claimed, "sensor-a"), 9u);

  CommitSummary later = commit_ok(store, batch_of("sensor-a", {reading(13, kT0 + 13 * kSecond, 22.0)}), kT0 + kMinute);
  EXPECT_EQ(later.stored, 1u);
  EXPECT_EQ(later.given_up, 2u);  // 10 and 11
  EXPECT_EQ(ack_of(later, "sensor-a"), 11u) << "12 is held by the device";

  // sensor-b goes on from its migrated ack, and its new reading follows the export log.
  CommitSummary b = commit_ok(store, batch_of("sensor-b", {reading(5, kT0 + 5 * kSecond, 22.0)}), kT0 + kMinute);
  EXPECT_EQ(b.stored, 1u);
  EXPECT_EQ(b.given_up, 0u);
  EXPECT_EQ(ack_of(b, "sensor-b"), 5u);
  auto exported = read_all(store, 6);
  ASSERT_EQ(exported.readings.size(), 2u);
  EXPECT_EQ(exported.readings[0].position, 7u);
  EXPECT_EQ(exported.readings[1].position, 8u);

  RawDatabase raw(path);
  EXPECT_EQ(raw.integer("SELECT claimed_floor FROM devices WHERE name = 'sensor-a'"), 12);
  EXPECT_EQ(raw.integer("SELECT claimed_floor FROM devices WHERE name = 'sensor-b'"), 0);
}

TEST(StoreMigration, FailedUpgradeFromVersion2LeavesTheFileAsItWas) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  // Not quite version 2: devices already has a claimed_floor column, so adding it fails.
  write_version_2(path, "ALTER TABLE devices ADD COLUMN claimed_floor TEXT;");
  expect_failed_upgrade_changes_nothing(path, 2, "claimed_floor", dump_version_2_tables);
}

TEST(StoreMigration, FreshStoreHasClaimedFloor) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  ASSERT_TRUE(opens(path));
  RawDatabase raw(path);
  EXPECT_EQ(raw.integer("PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(rows_of(path,
                    "SELECT name, type, \"notnull\", dflt_value FROM pragma_table_info('devices')"
                    " WHERE name = 'claimed_floor'"),
            (Rows{{std::string("claimed_floor"), std::string("INTEGER"), std::int64_t{1}, std::string("0")}}));
  EXPECT_EQ(exec_code(path, "INSERT INTO devices (name) VALUES ('sensor-1')"), SQLITE_OK);
  EXPECT_EQ(raw.integer("SELECT claimed_floor FROM devices WHERE name = 'sensor-1'"), 0);
  EXPECT_EQ(exec_code(path, "UPDATE devices SET claimed_floor = -1") & 0xff, SQLITE_CONSTRAINT);
  EXPECT_EQ(exec_code(path, "UPDATE devices SET claimed_floor = NULL") & 0xff, SQLITE_CONSTRAINT);
}

// ---- Development builds: the export log under version 1 ----

TEST(StoreMigration, DevelopmentVersion1KeepsItsExportLog) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  // What a build between 72cbb5b and version 2 wrote: version 2's schema without
  // consumed_elsewhere. The newest position (6) is gone, as after a purge; the counter stays at 6.
  write_version_2(path);
  {
    RawDatabase raw(path);
    raw.exec(
        "DELETE FROM samples WHERE series = 2 AND seq = 5; DELETE FROM readings WHERE export_position = 6;"
        " DROP TABLE consumed_elsewhere; PRAGMA user_version = 1;");
  }
  const auto readings = rows_of(path, kReadingsWithPositions);
  ASSERT_EQ(readings.size(), 5u);
  const auto values = values_of(path);

  {
    auto opened = Store::open(path);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    Store& store = *opened;
    auto cursor = store.export_cursor("influxdb");
    ASSERT_TRUE(cursor.ok());
    EXPECT_EQ(*cursor, 4u);
    auto backlog = store.export_backlog(4);
    ASSERT_TRUE(backlog.ok());
    EXPECT_EQ(backlog->oldest_committed_ms, kT0 + 4 * kSecond) << "commit times are the real ones, not the upgrade's";
    CommitSummary summary = commit_ok(store, batch_of("sensor-3", sequence(1, 1, kT0)), kT0 + kHour);
    EXPECT_EQ(summary.stored, 1u);
    auto batch = read_all(store, 5);
    ASSERT_EQ(batch.readings.size(), 1u);
    EXPECT_EQ(batch.readings[0].position, 7u) << "the counter is kept, not recomputed from the rows";
  }
  RawDatabase raw(path);
  EXPECT_EQ(raw.integer("PRAGMA user_version"), kSchemaVersion);
  auto after = rows_of(path, kReadingsWithPositions);
  ASSERT_EQ(after.size(), 6u);
  after.erase(after.begin() + 5);  // sensor-3's new reading: device 3, after devices 1 and 2
  EXPECT_EQ(after, readings);
  auto after_values = values_of(path);
  ASSERT_EQ(after_values.size(), values.size() + 1);  // and its temperature
  after_values.pop_back();
  EXPECT_EQ(after_values, values);
  ASSERT_TRUE(opens(tmp / "fresh.db"));
  EXPECT_EQ(schema_of(path), schema_of(tmp / "fresh.db"));
}

// ---- Version 3: values in `samples`, a row per value ----

// The version 2 file upgraded to 3 as version 3 did it (the very ALTER TABLE of schema.cpp), with
// sensor-a holding a claim, a second quantity for sensor-b's seq 1 and a reading that waits above
// the gap whose samples retention deleted (sensor-a seq 6, position 7).
void write_version_3(const fs::path& path) {
  write_version_2(path);
  RawDatabase raw(path);
  raw.exec(
      "ALTER TABLE devices ADD COLUMN claimed_floor INTEGER NOT NULL DEFAULT 0 CHECK (claimed_floor >= 0);"
      " UPDATE devices SET claimed_floor = 12 WHERE id = 2;"
      " INSERT INTO series VALUES (3, 1, 'humidity'); INSERT INTO samples VALUES (3, 1735689600000, 1, 40.0);"
      " INSERT INTO readings VALUES (2, 6, 1735689605000, 7, 1735689606000);"
      " UPDATE counters SET value = 7 WHERE name = 'export_position';"
      " PRAGMA user_version = 3;");
}

constexpr const char* kReadingsVersion4Columns =
    "SELECT export_position, device, seq, ts_ms, committed_ms, temperature, humidity FROM readings"
    " ORDER BY export_position";

TEST(StoreMigration, Version3KeepsEveryValueInOneRowPerReading) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  write_version_3(path);
  const auto values = values_of(path);
  ASSERT_EQ(values.size(), 7u);
  const auto identities = rows_of(path, kReadingsWithPositions);

  {
    auto opened = Store::open(path);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    Store& store = *opened;
    auto b = store.device("sensor-b");
    ASSERT_TRUE(b.ok() && b->has_value());
    EXPECT_EQ((*b)->last_reading, reading(4, kT0 + 3 * kSecond, 21.5));
    auto a = store.device("sensor-a");
    ASSERT_TRUE(a.ok() && a->has_value());
    EXPECT_EQ((*a)->last_reading, reading(5, kT0 + 4 * kSecond, 18.0)) << "seq 6 has no values left";
    // Both quantities of sensor-b's seq 1 come back together; seq 6 counts as expired.
    auto exported = read_all(store);
    EXPECT_EQ(exported.expired, 1u);
    EXPECT_EQ(exported.end_position, 7u);
    ASSERT_EQ(exported.readings.size(), 6u);
    EXPECT_EQ(exported.readings[0].reading, reading(1, kT0, 20.5, 40.0));
    auto humidity =
        store.query(query_of("sensor-b", proto::Quantity::humidity, kT0, kT0 + kMinute, kMinute, Resolution::raw));
    ASSERT_TRUE(humidity.ok()) << humidity.error().message;
    ASSERT_EQ(humidity->buckets.size(), 1u);
    EXPECT_EQ(humidity->buckets[0].count, 1u);
    EXPECT_DOUBLE_EQ(humidity->buckets[0].last, 40.0);
  }

  RawDatabase raw(path);
  EXPECT_EQ(raw.integer("PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(values_of(path), values);
  EXPECT_EQ(rows_of(path, kReadingsWithPositions), identities);
  const Value none;
  EXPECT_EQ(rows_of(path, kReadingsVersion4Columns),
            (Rows{
                {std::int64_t{1}, std::int64_t{1}, std::int64_t{1}, kT0, kT0 + kSecond, 20.5, 40.0},
                {std::int64_t{2}, std::int64_t{1}, std::int64_t{2}, kT0 + kSecond, kT0 + kSecond, 21.0, none},
                {std::int64_t{3}, std::int64_t{2}, std::int64_t{1}, kT0, kT0 + kSecond, 19.0, none},
                {std::int64_t{4}, std::int64_t{2}, std::int64_t{2}, kT0 + kSecond, kT0 + kSecond, 19.5, none},
                {std::int64_t{5}, std::int64_t{1}, std::int64_t{4}, kT0 + 3 * kSecond, kT0 + 4 * kSecond, 21.5, none},
                {std::int64_t{6}, std::int64_t{2}, std::int64_t{5}, kT0 + 4 * kSecond, kT0 + 4 * kSecond, 18.0, none},
                {std::int64_t{7}, std::int64_t{2}, std::int64_t{6}, kT0 + 5 * kSecond, kT0 + 6 * kSecond, none, none},
            }));
  EXPECT_EQ(raw.integer("SELECT claimed_floor FROM devices WHERE name = 'sensor-a'"), 12);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM sqlite_schema WHERE name IN ('samples', 'readings_version_3')"), 0);
  EXPECT_EQ(raw.text("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(raw.integer("SELECT count(*) FROM pragma_foreign_key_check"), 0);
  ASSERT_TRUE(opens(tmp / "fresh.db"));
  EXPECT_EQ(schema_of(path), schema_of(tmp / "fresh.db"));

  // The database itself still refuses a second copy of a reading.
  EXPECT_EQ(exec_code(path, "INSERT INTO readings VALUES (8, 1, 1, 1735689600000, 1735689600000, 1.0, NULL)") & 0xff,
            SQLITE_CONSTRAINT);
}

TEST(StoreMigration, FailedUpgradeFromVersion3LeavesTheFileAsItWas) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  write_version_3(path);
  {
    // Not quite version 3: a table is in the way of the rename.
    RawDatabase raw(path);
    raw.exec("CREATE TABLE readings_version_3 (x INTEGER);");
  }
  // Every value and reading identity with its export position, among the rest.
  expect_failed_upgrade_changes_nothing(path, 3, "renaming readings", dump_version_2_tables);
}

// ---- Version 4: no device labels ----

// A version 4 file: the version 3 file upgraded, then without what versions 5, 6 and 7 added
// (device_labels and its index, devices.status_release_check, counters.rollup_position, and version 8's 8-hour rollups:
// a fresh store's schema is checked against the upgraded one's below), with registered devices, an unregistered one
// holding a claim, and readings above a gap.
void write_version_4(const fs::path& path) {
  write_version_3(path);
  ASSERT_TRUE(opens(path));
  RawDatabase raw(path);
  raw.exec(
      "ALTER TABLE devices DROP COLUMN status_release_check; DROP TABLE device_labels;"
      " DELETE FROM counters WHERE name = 'rollup_position'; PRAGMA user_version = 4;");
  remove_version_8(raw);
}

// devices by the columns of versions 3 to 5 (version 6 adds one, checked on its own).
constexpr const char* kDevicesVersion5Columns =
    "SELECT id, name, registered_ms, watermark, last_seen_ms, readings_stored, rejected_total, status_state,"
    " status_firmware, status_dropped_total, status_at_ms, claimed_floor FROM devices ORDER BY id";

// Every row of every table a version 4 file has, every column (devices: those it has).
std::vector<Rows> dump_version_4_tables(const fs::path& path) {
  return rows_of_each(
      path, {kDevicesVersion5Columns, "SELECT * FROM series ORDER BY id", kReadingsVersion4Columns,
             kRollupsVersion7Rows, "SELECT * FROM rejected ORDER BY device, seq",
             "SELECT * FROM retention_horizons ORDER BY resolution", "SELECT * FROM export_cursors ORDER BY exporter",
             kCountersBeforeVersion7, "SELECT * FROM consumed_elsewhere ORDER BY device, first_seq"});
}

TEST(StoreMigration, Version4KeepsEveryRowAndGetsDeviceLabels) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  write_version_4(path);
  const auto before = dump_version_4_tables(path);
  ASSERT_EQ(before[0].size(), 3u) << "three devices";
  ASSERT_EQ(before[2].size(), 7u) << "seven readings";

  {
    auto opened = Store::open(path);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    Store& store = *opened;
    auto devices = store.list_devices();
    ASSERT_TRUE(devices.ok()) << devices.error().message;
    ASSERT_EQ(devices->size(), 3u);
    for (const auto& device : *devices) EXPECT_TRUE(device.labels.empty()) << device.device_id;
    // Labels work on the upgraded store, on a registered device and on one only seen.
    ASSERT_TRUE(store.change_device_labels("sensor-a", {"greenhouse"}, {}).ok());
    ASSERT_TRUE(store.change_device_labels("sensor-b", {"greenhouse", "west"}, {}).ok());
    auto greenhouse = store.devices_with_label("greenhouse");
    ASSERT_TRUE(greenhouse.ok());
    EXPECT_EQ(*greenhouse, (std::vector<std::string>{"sensor-a", "sensor-b"}));
  }

  RawDatabase raw(path);
  EXPECT_EQ(raw.integer("PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(dump_version_4_tables(path), before) << "labelling changes no other row";
  EXPECT_EQ(raw.integer("SELECT count(*) FROM device_labels"), 3);
  EXPECT_EQ(raw.text("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(raw.integer("SELECT count(*) FROM pragma_foreign_key_check"), 0);
  ASSERT_TRUE(opens(tmp / "fresh.db"));
  EXPECT_EQ(schema_of(path), schema_of(tmp / "fresh.db"));
}

TEST(StoreMigration, FailedUpgradeFromVersion4LeavesTheFileAsItWas) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  write_version_4(path);
  {
    // Not quite version 4: a table is in the way.
    RawDatabase raw(path);
    raw.exec("CREATE TABLE device_labels (x INTEGER);");
  }
  expect_failed_upgrade_changes_nothing(path, 4, "creating device_labels", dump_version_4_tables);
}

// ---- Version 5: no release check verdicts ----

// A version 5 file: the version 4 file upgraded, then without what versions 6, 7 and 8 added
// (devices.status_release_check, counters.rollup_position, the 8-hour rollups), with labels, statuses (sensor-b online,
// sensor-a offline), a device registered only, and readings above a gap.
void write_version_5(const fs::path& path) {
  write_version_4(path);
  ASSERT_TRUE(opens(path));
  RawDatabase raw(path);
  raw.exec(
      "INSERT INTO device_labels VALUES (1, 'greenhouse'), (1, 'west'), (2, 'greenhouse');"
      " ALTER TABLE devices DROP COLUMN status_release_check; DELETE FROM counters WHERE name = 'rollup_position';"
      " PRAGMA user_version = 5;");
  remove_version_8(raw);
}

// Every row of every table a version 5 file has, every column (devices: those it has).
std::vector<Rows> dump_version_5_tables(const fs::path& path) {
  std::vector<Rows> dumps = dump_version_4_tables(path);
  dumps.push_back(rows_of(path, "SELECT * FROM device_labels ORDER BY device, label"));
  return dumps;
}

TEST(StoreMigration, Version5KeepsEveryRowAndNoDeviceHasReportedAReleaseCheck) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  write_version_5(path);
  const auto before = dump_version_5_tables(path);
  ASSERT_EQ(before[0].size(), 3u) << "three devices";
  ASSERT_EQ(before.back().size(), 3u) << "three labels";

  {
    auto opened = Store::open(path);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    Store& store = *opened;
    auto devices = store.list_devices();
    ASSERT_TRUE(devices.ok()) << devices.error().message;
    ASSERT_EQ(devices->size(), 3u);
    for (const auto& device : *devices) {
      if (device.status) {
        EXPECT_EQ(device.status->release_check, "") << device.device_id;
      }
    }
    EXPECT_EQ((*devices)[1].device_id, "sensor-b");
    ASSERT_TRUE((*devices)[1].status.has_value());
    EXPECT_EQ((*devices)[1].status->firmware, "1.2.0") << "the rest of the status is kept";
    EXPECT_EQ((*devices)[1].labels, (std::vector<std::string>{"greenhouse", "west"}));
  }

  RawDatabase raw(path);
  EXPECT_EQ(raw.integer("PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(dump_version_5_tables(path), before);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM devices WHERE status_release_check IS NOT NULL"), 0);
  EXPECT_EQ(raw.text("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(raw.integer("SELECT count(*) FROM pragma_foreign_key_check"), 0);
  ASSERT_TRUE(opens(tmp / "fresh.db"));
  EXPECT_EQ(schema_of(path), schema_of(tmp / "fresh.db"));

  // The upgraded store records verdicts; the last will keeps them.
  {
    auto opened = Store::open(path);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    Store& store = *opened;
    const DeviceStatus checked{.state = "online",
                               .firmware = "1.2.0",
                               .dropped_total = 0,
                               .at_ms = kT0 + kHour,
                               .release_check = "timestamp_expired"};
    ASSERT_TRUE(store.record_status("sensor-b", checked).ok());
    ASSERT_TRUE(store.record_status("sensor-b", DeviceStatus{"offline", "", 0, kT0 + 2 * kHour}).ok());
    auto b = store.device("sensor-b");
    ASSERT_TRUE(b.ok() && b->has_value() && (*b)->status.has_value());
    EXPECT_EQ((*b)->status->state, "offline");
    EXPECT_EQ((*b)->status->release_check, "timestamp_expired");
  }
  const auto schema = schema_of(path);
  ASSERT_TRUE(opens(path));
  EXPECT_EQ(schema_of(path), schema) << "opening the upgraded store again changes nothing";
}

TEST(StoreMigration, FailedUpgradeFromVersion5LeavesTheFileAsItWas) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  write_version_5(path);
  {
    // Not quite version 5: devices already has a column of that name.
    RawDatabase raw(path);
    raw.exec("ALTER TABLE devices ADD COLUMN status_release_check INTEGER;");
  }
  expect_failed_upgrade_changes_nothing(path, 5, "status_release_check", dump_version_5_tables);
}

// ---- Version 6: rollups written in the readings' own commit ----

// A version 6 file: the version 5 file upgraded, then without what versions 7 and 8 added
// (counters.rollup_position, the 8-hour rollups). Its rollups hold every reading, as version 6 wrote them.
void write_version_6(const fs::path& path) {
  write_version_5(path);
  ASSERT_TRUE(opens(path));
  RawDatabase raw(path);
  raw.exec("DELETE FROM counters WHERE name = 'rollup_position'; PRAGMA user_version = 6;");
  remove_version_8(raw);
}

std::vector<Rows> dump_version_6_tables(const fs::path& path) {
  std::vector<Rows> dumps = dump_version_5_tables(path);
  dumps.push_back(rows_of(path, "SELECT id, status_release_check FROM devices ORDER BY id"));
  return dumps;
}

TEST(StoreMigration, Version6KeepsEveryRowAndItsRollupsHoldEveryReading) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  write_version_6(path);
  const auto before = dump_version_6_tables(path);
  ASSERT_EQ(before[3].size(), 4u) << "a minute and an hour rollup of two series";
  const auto minute_count = [&](Store& store) -> std::uint64_t {
    auto answer = store.query(
        query_of("sensor-b", proto::Quantity::temperature, kT0, kT0 + kMinute, kMinute, Resolution::minute));
    EXPECT_TRUE(answer.ok()) << answer.error().message;
    return answer.ok() && answer->buckets.size() == 1 ? answer->buckets[0].count : 0;
  };

  const std::int64_t rolled_up = RawDatabase(path).integer(
      "SELECT value_count FROM rollups JOIN series ON series.id = rollups.series JOIN devices ON devices.id ="
      " series.device WHERE devices.name = 'sensor-b' AND series.quantity = 'temperature' AND width_ms = 60000"
      " AND bucket_start_ms = 1735689600000");
  ASSERT_GT(rolled_up, 0);
  {
    auto opened = Store::open(path);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    Store& store = *opened;
    // Nothing is added twice: what the rollups hold is not unrolled again.
    EXPECT_EQ(minute_count(store), static_cast<std::uint64_t>(rolled_up));
  }
  RawDatabase raw(path);
  EXPECT_EQ(raw.integer("PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(dump_version_6_tables(path), before);
  EXPECT_EQ(raw.integer("SELECT value FROM counters WHERE name = 'rollup_position'"),
            raw.integer("SELECT value FROM counters WHERE name = 'export_position'"));
  EXPECT_EQ(raw.text("PRAGMA integrity_check"), "ok");
  ASSERT_TRUE(opens(tmp / "fresh.db"));
  EXPECT_EQ(schema_of(path), schema_of(tmp / "fresh.db"));

  // A reading committed after the upgrade joins the bucket once.
  auto opened = Store::open(path);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  commit_ok(*opened, batch_of("sensor-b", {reading(9, kT0 + 30 * kSecond, 22.0)}), kT0 + kHour);
  EXPECT_EQ(minute_count(*opened), static_cast<std::uint64_t>(rolled_up) + 1);
}

TEST(StoreMigration, FailedUpgradeFromVersion6LeavesTheFileAsItWas) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  write_version_6(path);
  {
    // Not quite version 6: the counter is there already.
    RawDatabase raw(path);
    raw.exec("INSERT INTO counters VALUES ('rollup_position', 1);");
  }
  expect_failed_upgrade_changes_nothing(path, 6, "rollup_position", dump_version_6_tables);
}

// ---- Version 7: minute and hour rollups only ----

// A version 7 file: the version 6 file upgraded, a reading two hours later in the same 8-hour
// bucket as sensor-b's first (kT0 is a multiple of 8 hours), then without the 8-hour rollups.
void write_version_7(const fs::path& path) {
  write_version_6(path);
  {
    auto opened = Store::open(path);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    // The first commit of a store folds: the rollups hold the reading.
    commit_ok(*opened, batch_of("sensor-b", {reading(9, kT0 + 2 * kHour + 5 * kSecond, 23.25)}), kT0 + 3 * kHour);
  }
  RawDatabase raw(path);
  remove_version_8(raw);
  raw.exec("PRAGMA user_version = 7;");
}

std::vector<Rows> dump_version_7_tables(const fs::path& path) {
  std::vector<Rows> dumps = dump_version_6_tables(path);
  dumps.push_back(rows_of(path, "SELECT * FROM counters ORDER BY name"));
  return dumps;
}

TEST(StoreMigration, Version7GetsEightHourRollupsFromItsHourRollups) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  write_version_7(path);
  const auto before = dump_version_7_tables(path);
  ASSERT_EQ(RawDatabase(path).integer("SELECT count(*) FROM rollups WHERE width_ms = 3600000 AND series ="
                                      " (SELECT series.id FROM series JOIN devices ON devices.id = series.device"
                                      " WHERE devices.name = 'sensor-b' AND series.quantity = 'temperature')"),
            2)
      << "two hours of sensor-b's temperature in one 8-hour bucket";

  auto opened = Store::open(path);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  {
    RawDatabase raw(path);
    EXPECT_EQ(raw.integer("PRAGMA user_version"), kSchemaVersion);
    EXPECT_EQ(dump_version_7_tables(path), before);
    EXPECT_EQ(raw.integer("SELECT count(*) FROM rollups WHERE width_ms = 28800000"),
              raw.integer("SELECT count(DISTINCT series || '/' || (bucket_start_ms / 28800000)) FROM rollups"
                          " WHERE width_ms = 3600000"))
        << "one 8-hour rollup per series and 8-hour bucket that has hour rollups";
    EXPECT_EQ(raw.text("PRAGMA integrity_check"), "ok");
  }
  ASSERT_TRUE(opens(tmp / "fresh.db"));
  EXPECT_EQ(schema_of(path), schema_of(tmp / "fresh.db"));

  // Every 8-hour bucket answers what its hour buckets answer together.
  for (const char* device : {"sensor-a", "sensor-b", "sensor-c"}) {
    for (auto quantity : {proto::Quantity::temperature, proto::Quantity::humidity}) {
      const auto range = [&](Resolution resolution) {
        return query_of(device, quantity, kT0 - kDay, kT0 + kDay, 8 * kHour, resolution);
      };
      auto hours = opened->query(range(Resolution::hour));
      auto eights = opened->query(range(Resolution::eight_hours));
      ASSERT_TRUE(hours.ok() && eights.ok());
      expect_same_buckets(eights->buckets, hours->buckets,
                          std::string(device) + " " + std::string(proto::info(quantity).name));
    }
  }
  auto b = opened->query(
      query_of("sensor-b", proto::Quantity::temperature, kT0, kT0 + 8 * kHour, 8 * kHour, Resolution::eight_hours));
  ASSERT_TRUE(b.ok() && b->buckets.size() == 1u);
  EXPECT_DOUBLE_EQ(b->buckets[0].last, 23.25) << "the last value is the latest hour's";
  EXPECT_DOUBLE_EQ(b->buckets[0].max, 23.25);
}

TEST(StoreMigration, FailedUpgradeFromVersion7LeavesTheFileAsItWas) {
  TempDir tmp;
  const fs::path path = tmp / "store.db";
  write_version_7(path);
  {
    // Not quite version 7: the rollups table allows no width but the minute (a definition no
    // kelvin wrote), so the CHECK the upgrade widens is not there.
    RawDatabase raw(path);
    edit_rollups_definition(raw, "CHECK (width_ms IN (60000, 3600000))", "CHECK (width_ms IN (60000))");
  }
  expect_failed_upgrade_changes_nothing(path, 7, "8-hour rollups", dump_version_7_tables);
}

}  // namespace
}  // namespace kelvin::store
