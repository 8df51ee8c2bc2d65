#include "schema.hpp"

#include <chrono>
#include <string>

#include "sqlite.hpp"

namespace kelvin::store {
namespace {

// Schema, version 8.
//
// devices    One row per device id. `id` is the internal key every other table uses, so a device
//            row's deletion cascades to all of its data. `watermark` is the ack: the highest seq
//            such that every seq up to it is consumed (stored in `readings`, recorded in
//            `rejected`, or reported consumed by a peer gateway in `consumed_elsewhere`), or given
//            up below the claimed floor. It only grows, and retention never touches it, so a seq
//            at or below it is a duplicate even after its rows are gone. registered_ms is NULL for
//            a device only seen via telemetry or status; status_state is NULL until a status
//            arrived. claimed_floor is the highest `oldest_seq` the device has reported ("I hold
//            nothing below it"; 0: none), capped at 2^63-1: seqs below it that never arrived are
//            given up, but only up to the highest seq consumed, so a claim cannot give up seqs
//            the device never sent, and a claim that arrives before the readings it concerns
//            takes effect when they arrive (ingest.cpp). It only grows. status_release_check is
//            the verdict of the device's release timestamp check from its last status that carried
//            one (docs/protocol.md, "Status"), NULL until then; the CHECK repeats the code grammar
//            of kelvin/proto/status.hpp.
// series     One row per (device, quantity); quantity is the protocol name ("temperature"). The
//            key of a quantity's rollups.
// readings   Every stored reading, one row with one REAL column per quantity (NULL: the reading
//            has no value for it, or retention deleted its values; reading_values.hpp). The rowid
//            is the reading's export_position, its place in the export log: a store-wide number
//            given at commit, strictly increasing in commit order and never reused (it comes from
//            counters.export_position, not from max(), so deleting the newest rows cannot make a
//            number come round again). The table is therefore written at its end only, and the
//            export log is read front to back. readings_by_seq makes (device, seq) unique, so the
//            database itself refuses a second copy; rows above the watermark (readings that
//            arrived ahead of a gap) are what lets the watermark advance when the gap fills.
//            readings_by_time serves time-range scans of a device. committed_ms is when the commit
//            happened. One row and two index entries per reading: version 3 wrote five b-tree
//            entries (a readings row, two indexes, a samples row per quantity).
// rollups    Per series, per bucket width (60000 = minute, 3600000 = hour, 28800000 = 8 hours)
//            and aligned bucket start: min, max, sum, count and the last value by (ts, seq), of
//            every reading with export_position <= counters.rollup_position. The readings after
//            it are folded in by a later commit (rollups.cpp), at most a second or 20,000 readings
//            later; queries add them meanwhile, so an answer is the same before and after the fold.
// rejected   Readings rejected although their seq was valid: the seq is consumed (it advances the
//            ack) and a later reading with that seq is not stored.
// consumed_elsewhere  Seq ranges of a device that a peer gateway sharing the broker reported
//            consumed (stored or rejected there), above this store's watermark. Like `rejected`,
//            they count as consumed for the watermark, and a reading with such a seq is a
//            duplicate. Rows at or below the watermark are redundant and may be deleted.
// export_cursors  Per exporter (e.g. 'influxdb'), the export_position up to which every reading
//            has been delivered to it.
// counters   Named store-wide counters; 'export_position' is the last position handed out;
//            'rollup_position' the last one folded into the rollups (never above export_position).
// retention_horizons  Per resolution ('raw', 'minute', 'hour'), the time from which retention has
//            deleted nothing; the query planner uses it to pick a resolution that covers a range.
// device_labels  The labels an operator gave a device (docs/registry.md, "Labels"), one row each,
//            keyed by (device, label) so a device's labels are one range scan; device_labels_by_label
//            finds the devices carrying a label (a rollout to a label). The CHECK repeats the
//            grammar of kelvin/core/identity.hpp as the last word; the limit per device is the
//            code's (devices.cpp). A device row's deletion takes its labels with it.
//
// STRICT tables make SQLite enforce the column types; WITHOUT ROWID stores the tables keyed by
// their natural primary key (one b-tree instead of two).
//
// The statements are split where a migration creates or alters objects on its own: it runs the
// very same text, so a migrated file's schema is identical to a freshly created one's. That is
// why a new store, too, gets claimed_floor through ALTER TABLE (SQLite appends the column to the
// stored CREATE TABLE text, which a fresh CREATE TABLE with the column would not reproduce), and
// why a new store is created as version 3 and then migrated: the migration to version 4 on empty
// tables costs nothing and leaves exactly the schema an upgraded file has. Version 5 only adds
// objects, created by the same statements in a new store and in an upgraded one; version 6 adds
// devices.status_release_check with the same ALTER TABLE in both; version 7 adds a counter, set by
// the same statement in both; version 8 edits the CHECK on rollups.width_ms by the same procedure
// in both (so the stored text still starts from version 1's).

// Unchanged since version 1.
constexpr const char* kVersion1TablesSql = R"sql(
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
)sql";

constexpr const char* kReadingsTableSql = R"sql(
CREATE TABLE readings (
  device INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  seq    INTEGER NOT NULL CHECK (seq >= 1),
  ts_ms  INTEGER NOT NULL,
  export_position INTEGER NOT NULL,
  committed_ms    INTEGER NOT NULL,
  PRIMARY KEY (device, seq)
) STRICT, WITHOUT ROWID;
)sql";
constexpr const char* kReadingsByTimeSql = "CREATE INDEX readings_by_time ON readings (device, ts_ms);";
constexpr const char* kReadingsByExportPositionSql =
    "CREATE UNIQUE INDEX readings_by_export_position ON readings (export_position);";

constexpr const char* kExportCursorsTableSql = R"sql(
CREATE TABLE export_cursors (
  exporter   TEXT PRIMARY KEY,
  position   INTEGER NOT NULL CHECK (position >= 0),
  updated_ms INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
)sql";

constexpr const char* kCountersTableSql = R"sql(
CREATE TABLE counters (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
)sql";

// The last position handed out: 0 in a new store, the number of readings after the rebuild of a
// released version 1 file. An existing counter is kept: it can be above max(export_position) once
// the newest readings were purged, and must never go back.
constexpr const char* kSeedExportPositionSql =
    "INSERT OR IGNORE INTO counters (name, value)"
    " SELECT 'export_position', coalesce(max(export_position), 0) FROM readings;";

// Version 7: every reading committed so far is in the rollups (earlier versions wrote them in
// the reading's own commit), so the rollups cover everything up to the last export position.
constexpr const char* kSeedRollupPositionSql =
    "INSERT INTO counters (name, value) SELECT 'rollup_position', value FROM counters WHERE name = 'export_position';";

constexpr const char* kConsumedElsewhereTableSql = R"sql(
CREATE TABLE consumed_elsewhere (
  device    INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  first_seq INTEGER NOT NULL CHECK (first_seq >= 1),
  last_seq  INTEGER NOT NULL CHECK (last_seq >= first_seq),
  PRIMARY KEY (device, first_seq)
) STRICT, WITHOUT ROWID;
)sql";

// Version 3: the device's claimed floor (status oldest_seq). A NOT NULL column added to existing
// rows needs a constant default; every existing device starts without a claim.
constexpr const char* kDevicesClaimedFloorSql =
    "ALTER TABLE devices ADD COLUMN claimed_floor INTEGER NOT NULL DEFAULT 0 CHECK (claimed_floor >= 0);";

// Version 4: one row per reading, in export order (see the top of this file). The indexes are
// created after the copy of a migration: one sort each instead of an index update per row.
constexpr const char* kReadingsVersion4TableSql = R"sql(
CREATE TABLE readings (
  export_position INTEGER PRIMARY KEY CHECK (export_position >= 1),
  device          INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  seq             INTEGER NOT NULL CHECK (seq >= 1),
  ts_ms           INTEGER NOT NULL,
  committed_ms    INTEGER NOT NULL,
  temperature     REAL,
  humidity        REAL
) STRICT;
)sql";
constexpr const char* kReadingsBySeqSql = "CREATE UNIQUE INDEX readings_by_seq ON readings (device, seq);";
constexpr const char* kReadingsByTimeVersion4Sql = "CREATE INDEX readings_by_time ON readings (device, ts_ms, seq);";

// Version 5: device labels (see the top of this file).
constexpr const char* kDeviceLabelsSql = R"sql(
CREATE TABLE device_labels (
  device INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
  label  TEXT NOT NULL CHECK (length(label) BETWEEN 1 AND 64 AND label NOT GLOB '*[^a-z0-9._-]*'
                              AND substr(label, 1, 1) GLOB '[a-z0-9]'),
  PRIMARY KEY (device, label)
) STRICT, WITHOUT ROWID;
CREATE INDEX device_labels_by_label ON device_labels (label);
)sql";

// Version 6: the device's release check verdict (see the top of this file). Nullable, so existing
// rows need no default: every existing device has reported none.
constexpr const char* kDevicesReleaseCheckSql =
    "ALTER TABLE devices ADD COLUMN status_release_check TEXT"
    " CHECK (length(status_release_check) BETWEEN 1 AND 40 AND status_release_check NOT GLOB '*[^a-z_]*');";

// Version 8: 8-hour rollups (buckets.hpp). The CHECK on rollups.width_ms gains their width. SQLite
// cannot alter a CHECK, and rebuilding `rollups` (two rows per reading and quantity) would take a
// large store minutes and its size again in disk space; allowing one more value changes no stored
// row, which is the case SQLite documents for editing the table's text in sqlite_schema
// (https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema Changes").
constexpr const char* kRollupWidthsCheck = "CHECK (width_ms IN (60000, 3600000))";
constexpr const char* kRollupWidthsCheckVersion8 = "CHECK (width_ms IN (60000, 3600000, 28800000))";

// Version 8: every 8-hour bucket from the hour buckets it holds. They cover the same readings
// (up to counters.rollup_position); min, max, sum and count combine, and the last value by
// (ts, seq) is the one of the latest hour, as hour buckets do not overlap. Written in key order.
constexpr const char* kSeedEightHourRollupsSql = R"sql(
INSERT INTO rollups (series, width_ms, bucket_start_ms, min_value, max_value, value_sum, value_count,
                     last_ts_ms, last_seq, last_value)
SELECT eight.series, 28800000, eight.start_ms, eight.min_value, eight.max_value, eight.value_sum,
       eight.value_count, latest.last_ts_ms, latest.last_seq, latest.last_value
FROM (SELECT series, bucket_start_ms - ((bucket_start_ms % 28800000) + 28800000) % 28800000 AS start_ms,
             min(min_value) AS min_value, max(max_value) AS max_value, sum(value_sum) AS value_sum,
             sum(value_count) AS value_count, max(bucket_start_ms) AS latest_hour_ms
      FROM rollups WHERE width_ms = 3600000 GROUP BY series, start_ms) AS eight
JOIN rollups AS latest
  ON latest.series = eight.series AND latest.width_ms = 3600000 AND latest.bucket_start_ms = eight.latest_hour_ms
ORDER BY eight.series, eight.start_ms;
)sql";

// Released version 1 (kelvin up to commit 72cbb5b) had `readings` without export_position and
// committed_ms, and no export_cursors, counters or consumed_elsewhere.
constexpr std::int64_t kReleasedVersion1 = 1;
// Version 2: the schema of kelvin up to the commit that added claimed_floor (devices without it).
constexpr std::int64_t kVersion2 = 2;
// Version 3: readings' values in `samples`, a row per value (kelvin up to the one-row readings).
constexpr std::int64_t kVersion3 = 3;
// Version 4: one row per reading, no device labels (kelvin up to device labels).
constexpr std::int64_t kVersion4 = 4;
// Version 5: device labels, no release check verdict (kelvin up to the release check's status).
constexpr std::int64_t kVersion5 = 5;
// Version 6: rollups written in the readings' own commit (kelvin up to the folded rollups).
constexpr std::int64_t kVersion6 = 6;
// Version 7: minute and hour rollups only (kelvin up to the 8-hour rollups).
constexpr std::int64_t kVersion7 = 7;

struct FileMarks {
  std::int64_t application_id = 0;
  std::int64_t user_version = 0;
  std::int64_t object_count = 0;  // tables, indexes, ... of any kind
  bool empty() const { return object_count == 0 && application_id == 0; }
};

Result<std::int64_t> single_integer(sqlite3* db, const char* sql, const std::filesystem::path& db_file) {
  auto statement = sqlite::Statement::prepare(db, sql);
  if (!statement) {
    auto error = std::move(statement).error();
    error.message = db_file.string() + ": " + error.message;
    return error;
  }
  auto row = statement->step();
  if (!row) {
    auto error = std::move(row).error();
    error.message = db_file.string() + ": " + error.message;
    return error;
  }
  return *row ? statement->column_int64(0) : 0;
}

Result<FileMarks> read_marks(sqlite3* db, const std::filesystem::path& db_file) {
  FileMarks marks;
  auto application_id = single_integer(db, "PRAGMA application_id", db_file);
  if (!application_id) return std::move(application_id).error();
  auto user_version = single_integer(db, "PRAGMA user_version", db_file);
  if (!user_version) return std::move(user_version).error();
  auto object_count = single_integer(db, "SELECT count(*) FROM sqlite_schema", db_file);
  if (!object_count) return std::move(object_count).error();
  marks.application_id = *application_id;
  marks.user_version = *user_version;
  marks.object_count = *object_count;
  return marks;
}

// What a non-empty file needs: nothing (true: it is current), a migration (false), or it cannot be
// opened (an error).
Result<bool> is_current(const FileMarks& marks, const std::filesystem::path& db_file) {
  if (marks.application_id != kApplicationId) {
    return make_error(Errc::corrupt, db_file.string() + " is an SQLite database but not a kelvin store");
  }
  if (marks.user_version > kSchemaVersion) {
    return make_error(Errc::conflict, db_file.string() + " has store schema version " +
                                          std::to_string(marks.user_version) + ", newer than this build's " +
                                          std::to_string(kSchemaVersion) + "; upgrade kelvin");
  }
  if (marks.user_version == kSchemaVersion) return true;
  if (marks.user_version >= kReleasedVersion1 && marks.user_version < kSchemaVersion) return false;
  // Version 0 with our mark is a half-created file; no other version was ever written.
  return make_error(Errc::corrupt,
                    db_file.string() + " has unknown store schema version " + std::to_string(marks.user_version));
}

Result<void> migrate_readings_to_version_4(sqlite3* db, const std::string& what);
Result<void> add_eight_hour_rollups(sqlite3* db, const std::string& what);

// A new store: version 3's objects, then the migrations to versions 4, 5, 6, 7 and 8 (see the top
// of this file).
Result<void> create_schema(sqlite3* db, const std::string& what) {
  for (const char* sql :
       {kVersion1TablesSql, kReadingsTableSql, kReadingsByTimeSql, kReadingsByExportPositionSql, kExportCursorsTableSql,
        kCountersTableSql, kSeedExportPositionSql, kConsumedElsewhereTableSql, kDevicesClaimedFloorSql}) {
    if (auto created = sqlite::exec(db, sql, what); !created) return created;
  }
  if (auto migrated = migrate_readings_to_version_4(db, what); !migrated) return migrated;
  if (auto created = sqlite::exec(db, kDeviceLabelsSql, what); !created) return created;
  if (auto created = sqlite::exec(db, kDevicesReleaseCheckSql, what); !created) return created;
  if (auto seeded = sqlite::exec(db, kSeedRollupPositionSql, what); !seeded) return seeded;
  return add_eight_hour_rollups(db, what);
}

// `what`: the error message's context; SQLite's own message follows it.
Error in_context(Error error, const std::string& what) {
  error.message = what + ": " + error.message;
  return error;
}

std::int64_t wall_clock_ms() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count());
}

// From readings_version_1 into the new readings, inserted in primary-key order so the new b-tree
// is written front to back. The statement is finalized on return: DROP TABLE needs no statement
// reading the table.
Result<void> copy_readings(sqlite3* db, const std::string& what) {
  auto copy = sqlite::Statement::prepare(
      db,
      "INSERT INTO readings (device, seq, ts_ms, export_position, committed_ms)"
      " SELECT device, seq, ts_ms, row_number() OVER (ORDER BY ts_ms, device, seq), ?1 FROM readings_version_1"
      " ORDER BY device, seq");
  if (!copy) return in_context(std::move(copy).error(), what);
  copy->bind(1, wall_clock_ms());
  if (auto copied = copy->run(); !copied) return in_context(std::move(copied).error(), what);
  return {};
}

// The released version 1 file: `readings` is rebuilt (SQLite cannot add NOT NULL columns without
// a default), everything else gains only the new tables. Every reading gets an export position in
// (ts_ms, device, seq) order (device = its internal id, the order devices were first seen), so an
// exporter set up after the upgrade exports the whole history, oldest first; committed_ms is the
// migration time, the only commit time known. Nothing references `readings`, so renaming and
// dropping it touches no other table.
Result<void> migrate_released_version_1(sqlite3* db, const std::string& what) {
  if (auto renamed = sqlite::exec(db, "ALTER TABLE readings RENAME TO readings_version_1;",
                                  what + ": renaming readings to readings_version_1");
      !renamed) {
    return renamed;
  }
  if (auto created = sqlite::exec(db, kReadingsTableSql, what + ": creating the new readings table"); !created) {
    return created;
  }
  if (auto copied = copy_readings(db, what + ": copying the readings"); !copied) return copied;
  if (auto dropped = sqlite::exec(db, "DROP TABLE readings_version_1;", what + ": dropping readings_version_1");
      !dropped) {
    return dropped;
  }
  // Created after the copy (one sort instead of one index update per row), and after the drop,
  // which takes the old readings_by_time with it.
  struct Step {
    const char* sql;
    const char* doing;
  };
  for (const Step& step :
       {Step{kReadingsByTimeSql, "creating readings_by_time"},
        Step{kReadingsByExportPositionSql, "creating readings_by_export_position"},
        Step{kExportCursorsTableSql, "creating export_cursors"}, Step{kCountersTableSql, "creating counters"},
        Step{kSeedExportPositionSql, "setting the export_position counter"},
        Step{kConsumedElsewhereTableSql, "creating consumed_elsewhere"}}) {
    if (auto done = sqlite::exec(db, step.sql, what + ": " + step.doing); !done) return done;
  }
  return {};
}

// Creates one object of the schema unless the file has an object of that type and name.
Result<void> create_if_missing(sqlite3* db, const char* type, const char* name, const char* sql,
                               const std::string& what) {
  auto find = sqlite::Statement::prepare(db, "SELECT 1 FROM sqlite_schema WHERE type = ?1 AND name = ?2");
  if (!find) return in_context(std::move(find).error(), what);
  find->bind(1, std::string_view(type));
  find->bind(2, std::string_view(name));
  auto found = find->step();
  if (!found) return in_context(std::move(found).error(), what);
  if (*found) return {};
  return sqlite::exec(db, sql, what + ": creating " + name);
}

// A development build's file (kelvin after 72cbb5b, before schema version 2): readings already
// has its export positions and commit times, which are kept. Only what is missing is added.
Result<void> migrate_development_version_1(sqlite3* db, const std::string& what) {
  if (auto index = create_if_missing(db, "index", "readings_by_export_position", kReadingsByExportPositionSql, what);
      !index) {
    return index;
  }
  if (auto cursors = create_if_missing(db, "table", "export_cursors", kExportCursorsTableSql, what); !cursors) {
    return cursors;
  }
  if (auto counters = create_if_missing(db, "table", "counters", kCountersTableSql, what); !counters) return counters;
  if (auto seeded = sqlite::exec(db, kSeedExportPositionSql, what + ": setting the export_position counter"); !seeded) {
    return seeded;
  }
  return create_if_missing(db, "table", "consumed_elsewhere", kConsumedElsewhereTableSql, what);
}

// How many of export_position and committed_ms `readings` has. The statement is finalized on
// return: a statement left mid-step would keep `readings` locked against the rebuild.
Result<std::int64_t> count_export_columns(sqlite3* db, const std::string& what) {
  auto columns = sqlite::Statement::prepare(
      db, "SELECT count(*) FROM pragma_table_info('readings') WHERE name IN ('export_position', 'committed_ms')");
  if (!columns) return in_context(std::move(columns).error(), what);
  auto row = columns->step();
  if (!row) return in_context(std::move(row).error(), what);
  return *row ? columns->column_int64(0) : 0;
}

std::string upgrade_context(const std::filesystem::path& db_file, std::int64_t from) {
  return "cannot upgrade " + db_file.string() + " from store schema version " + std::to_string(from) + " to " +
         std::to_string(from + 1);
}

// Version 1 to 2, inside the caller's transaction. Which version 1 it is shows in readings'
// columns.
Result<void> migrate_version_1(sqlite3* db, const std::filesystem::path& db_file) {
  const std::string what = upgrade_context(db_file, kReleasedVersion1);
  auto export_columns = count_export_columns(db, what);
  if (!export_columns) return std::move(export_columns).error();
  if (*export_columns == 0) return migrate_released_version_1(db, what);
  if (*export_columns == 2) return migrate_development_version_1(db, what);
  return make_error(Errc::corrupt,
                    what + ": readings has only one of export_position and committed_ms, which no kelvin wrote");
}

// Version 2 to 3: every device gets claimed_floor 0 (no claim held). A version 2 gateway applied
// each claim at once instead of holding it; what it gave up is in the watermark and stays given up.
Result<void> migrate_version_2(sqlite3* db, const std::filesystem::path& db_file) {
  const std::string what = upgrade_context(db_file, kVersion2);
  return sqlite::exec(db, kDevicesClaimedFloorSql, what + ": adding devices.claimed_floor");
}

// Version 3 to 4: `readings` and `samples` become one `readings` table with a row per reading
// (see the top of this file). Every reading keeps its export position, commit time and values;
// a value without its reading's row (which no kelvin left behind: retention and purge delete a
// reading's samples before or with its row) is not carried over. One INSERT ... SELECT in export
// order, so the new table is written front to back; the indexes follow.
Result<void> migrate_readings_to_version_4(sqlite3* db, const std::string& what) {
  struct Step {
    const char* sql;
    const char* doing;
  };
  // The old indexes go first: they would keep their names on the renamed table.
  for (const Step& step : {
           Step{"DROP INDEX readings_by_time; DROP INDEX readings_by_export_position;", "dropping the old indexes"},
           Step{"ALTER TABLE readings RENAME TO readings_version_3;", "renaming readings to readings_version_3"},
           Step{kReadingsVersion4TableSql, "creating the new readings table"},
           Step{"INSERT INTO readings (export_position, device, seq, ts_ms, committed_ms, temperature, humidity)"
                " SELECT r.export_position, r.device, r.seq, r.ts_ms, r.committed_ms, t.value, h.value"
                " FROM readings_version_3 r"
                " LEFT JOIN series st ON st.device = r.device AND st.quantity = 'temperature'"
                " LEFT JOIN samples t ON t.series = st.id AND t.ts_ms = r.ts_ms AND t.seq = r.seq"
                " LEFT JOIN series sh ON sh.device = r.device AND sh.quantity = 'humidity'"
                " LEFT JOIN samples h ON h.series = sh.id AND h.ts_ms = r.ts_ms AND h.seq = r.seq"
                " ORDER BY r.export_position;",
                "copying the readings and their values"},
           Step{"DROP TABLE readings_version_3; DROP TABLE samples;", "dropping readings_version_3 and samples"},
           Step{kReadingsBySeqSql, "creating readings_by_seq"},
           Step{kReadingsByTimeVersion4Sql, "creating readings_by_time"},
       }) {
    if (auto done = sqlite::exec(db, step.sql, what + ": " + step.doing); !done) return done;
  }
  return {};
}

Result<void> migrate_version_3(sqlite3* db, const std::filesystem::path& db_file) {
  return migrate_readings_to_version_4(db, upgrade_context(db_file, kVersion3));
}

// Version 4 to 5: device_labels, empty (no device carries a label yet). Nothing else changes.
Result<void> migrate_version_4(sqlite3* db, const std::filesystem::path& db_file) {
  return sqlite::exec(db, kDeviceLabelsSql, upgrade_context(db_file, kVersion4) + ": creating device_labels");
}

// Version 5 to 6: devices.status_release_check, NULL for every device (none has reported a
// verdict). Nothing else changes.
Result<void> migrate_version_5(sqlite3* db, const std::filesystem::path& db_file) {
  return sqlite::exec(db, kDevicesReleaseCheckSql,
                      upgrade_context(db_file, kVersion5) + ": adding devices.status_release_check");
}

// Version 6 to 7: counters.rollup_position at the last export position, as a version 6 store's
// rollups hold every reading. Nothing else changes.
Result<void> migrate_version_6(sqlite3* db, const std::filesystem::path& db_file) {
  return sqlite::exec(db, kSeedRollupPositionSql,
                      upgrade_context(db_file, kVersion6) + ": setting the rollup_position counter");
}

// Replaces the CHECK on rollups.width_ms by version 8's in the table's stored text, inside the
// caller's transaction, by SQLite's documented procedure: the schema cookie goes up by one, so
// every connection (this one included) reads the schema again before its next statement.
Result<void> widen_rollup_widths_check(sqlite3* db, const std::string& what) {
  std::int64_t schema_version = 0;
  {  // the statement is finalized before the schema changes
    auto cookie = sqlite::Statement::prepare(db, "PRAGMA schema_version");
    if (!cookie) return in_context(std::move(cookie).error(), what);
    auto row = cookie->step();
    if (!row) return in_context(std::move(row).error(), what);
    if (!*row) return make_error(Errc::corrupt, what + ": PRAGMA schema_version answered nothing");
    schema_version = cookie->column_int64(0);
  }

  if (auto on = sqlite::exec(db, "PRAGMA writable_schema = ON;", what); !on) return on;
  auto edit = sqlite::Statement::prepare(db,
                                         "UPDATE sqlite_schema SET sql = replace(sql, ?1, ?2) WHERE type = 'table' AND "
                                         "name = 'rollups' AND instr(sql, ?1) > 0");
  if (!edit) return in_context(std::move(edit).error(), what);
  edit->bind(1, std::string_view(kRollupWidthsCheck));
  edit->bind(2, std::string_view(kRollupWidthsCheckVersion8));
  auto edited = edit->run();
  const std::int64_t changed = edit->changes();
  const std::string bump = "PRAGMA schema_version = " + std::to_string(schema_version + 1) + ";";
  auto bumped = edited ? sqlite::exec(db, bump.c_str(), what) : Result<void>{};
  // Off again whatever happened: the rollback of a failure restores sqlite_schema.
  auto off = sqlite::exec(db, "PRAGMA writable_schema = OFF;", what);
  if (!edited) return in_context(std::move(edited).error(), what);
  if (!bumped) return bumped;
  if (!off) return off;
  if (changed != 1) {
    return make_error(Errc::corrupt, what + ": the rollups table is not as version 7 created it (no " +
                                         kRollupWidthsCheck + " in its definition)");
  }
  return {};
}

// Version 7 to 8 (and the last step of a new store): 8-hour rollups, their width allowed and their
// buckets computed from the hour rollups.
Result<void> add_eight_hour_rollups(sqlite3* db, const std::string& what) {
  if (auto widened = widen_rollup_widths_check(db, what + ": allowing 8-hour rollups"); !widened) return widened;
  return sqlite::exec(db, kSeedEightHourRollupsSql, what + ": computing the 8-hour rollups");
}

Result<void> migrate_version_7(sqlite3* db, const std::filesystem::path& db_file) {
  return add_eight_hour_rollups(db, upgrade_context(db_file, kVersion7));
}

// From `version` to kSchemaVersion, one step after the other, inside the caller's transaction: a
// failure leaves the file as it was once the transaction rolls back.
Result<void> migrate(sqlite3* db, const std::filesystem::path& db_file, std::int64_t version) {
  if (version == kReleasedVersion1) {
    if (auto migrated = migrate_version_1(db, db_file); !migrated) return migrated;
    version = kVersion2;
  }
  if (version == kVersion2) {
    if (auto migrated = migrate_version_2(db, db_file); !migrated) return migrated;
    version = kVersion3;
  }
  if (version == kVersion3) {
    if (auto migrated = migrate_version_3(db, db_file); !migrated) return migrated;
    version = kVersion4;
  }
  if (version == kVersion4) {
    if (auto migrated = migrate_version_4(db, db_file); !migrated) return migrated;
    version = kVersion5;
  }
  if (version == kVersion5) {
    if (auto migrated = migrate_version_5(db, db_file); !migrated) return migrated;
    version = kVersion6;
  }
  if (version == kVersion6) {
    if (auto migrated = migrate_version_6(db, db_file); !migrated) return migrated;
    version = kVersion7;
  }
  if (version == kVersion7) {
    if (auto migrated = migrate_version_7(db, db_file); !migrated) return migrated;
  }
  const std::string version_sql = "PRAGMA user_version = " + std::to_string(kSchemaVersion) + ";";
  return sqlite::exec(db, version_sql.c_str(),
                      "cannot upgrade " + db_file.string() + " to store schema version " +
                          std::to_string(kSchemaVersion) + ": setting the schema version");
}

}  // namespace

Result<void> ensure_schema(sqlite3* db, const std::filesystem::path& db_file) {
  auto marks = read_marks(db, db_file);  // the first read: a non-SQLite file fails here
  if (!marks) return std::move(marks).error();
  if (!marks->empty()) {
    auto current = is_current(*marks, db_file);
    if (!current) return std::move(current).error();
    if (*current) return {};
  }

  // Create or migrate. Re-checked under the write lock, as another process may be doing the same;
  // when it finished first there is nothing left to do (and the transaction rolls back empty).
  auto transaction = sqlite::Transaction::begin(db);
  if (!transaction) return std::move(transaction).error();
  marks = read_marks(db, db_file);
  if (!marks) return std::move(marks).error();
  if (!marks->empty()) {
    auto current = is_current(*marks, db_file);
    if (!current) return std::move(current).error();
    if (*current) return {};
    if (auto migrated = migrate(db, db_file, marks->user_version); !migrated) return migrated;
    return transaction->commit();
  }

  const std::string what = "cannot create the store schema in " + db_file.string();
  if (auto created = create_schema(db, what); !created) return created;
  const std::string marks_sql = "PRAGMA application_id = " + std::to_string(kApplicationId) +
                                "; PRAGMA user_version = " + std::to_string(kSchemaVersion) + ";";
  if (auto marked = sqlite::exec(db, marks_sql.c_str(), what); !marked) return marked;
  return transaction->commit();
}

}  // namespace kelvin::store
