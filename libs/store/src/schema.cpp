#include "schema.hpp"

#include <string>

#include "sqlite.hpp"

namespace kelvin::store {
namespace {

// Schema, version 1.
//
// devices    One row per device id. `id` is the internal key every other table uses, so a device
//            row's deletion cascades to all of its data. `watermark` is the ack: the highest seq
//            such that every seq up to it is consumed (stored in `readings` or recorded in
//            `rejected`). It only grows, and retention never touches it, so a seq at or below it
//            is a duplicate even after its rows are gone. registered_ms is NULL for a device only
//            seen via telemetry or status; status_state is NULL until a status arrived.
// series     One row per (device, quantity); quantity is the protocol name ("temperature").
// readings   The identity of every stored reading: (device, seq) is the primary key, so the
//            database itself refuses a second copy. Rows above the watermark (readings that
//            arrived ahead of a gap) are what lets the watermark advance when the gap fills.
//            export_position is the reading's place in the export log: a store-wide number given
//            at commit, strictly increasing in commit order and never reused (it comes from
//            counters.export_position, not from max(), so deleting the newest rows cannot make
//            a number come round again). committed_ms is when the commit happened.
// samples    One row per value of a reading, keyed (series, ts_ms, seq): time-range scans of a
//            series are primary-key range scans, and ties in time stay distinct.
// rollups    Per series, per bucket width (60000 = minute, 3600000 = hour) and aligned bucket
//            start: min, max, sum, count and the last value by (ts, seq). Written in the same
//            transaction as the samples, from values aggregated in memory per bucket first.
// rejected   Readings rejected although their seq was valid: the seq is consumed (it advances the
//            ack) and a later reading with that seq is not stored.
// export_cursors  Per exporter (e.g. 'influxdb'), the export_position up to which every reading
//            has been delivered to it.
// counters   Named store-wide counters; 'export_position' is the last position handed out.
// retention_horizons  Per resolution ('raw', 'minute', 'hour'), the time from which retention has
//            deleted nothing; the query planner uses it to pick a resolution that covers a range.
//
// STRICT tables make SQLite enforce the column types; WITHOUT ROWID stores the tables keyed by
// their natural primary key (one b-tree instead of two).
constexpr const char* kSchemaSql = R"sql(
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
  export_position INTEGER NOT NULL,
  committed_ms    INTEGER NOT NULL,
  PRIMARY KEY (device, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX readings_by_time ON readings (device, ts_ms);
CREATE UNIQUE INDEX readings_by_export_position ON readings (export_position);

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

CREATE TABLE export_cursors (
  exporter   TEXT PRIMARY KEY,
  position   INTEGER NOT NULL CHECK (position >= 0),
  updated_ms INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE counters (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES ('export_position', 0);

CREATE TABLE retention_horizons (
  resolution TEXT PRIMARY KEY CHECK (resolution IN ('raw', 'minute', 'hour')),
  horizon_ms INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
)sql";

struct FileMarks {
  std::int64_t application_id = 0;
  std::int64_t user_version = 0;
  std::int64_t object_count = 0;  // tables, indexes, ... of any kind
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

Result<void> check_marks(const FileMarks& marks, const std::filesystem::path& db_file) {
  if (marks.application_id != kApplicationId) {
    return make_error(Errc::corrupt, db_file.string() + " is an SQLite database but not a kelvin store");
  }
  if (marks.user_version > kSchemaVersion) {
    return make_error(Errc::conflict, db_file.string() + " has store schema version " +
                                          std::to_string(marks.user_version) + ", newer than this build's " +
                                          std::to_string(kSchemaVersion) + "; upgrade kelvin");
  }
  if (marks.user_version < kSchemaVersion) {
    // No older version was ever released; version 0 with our mark is a half-created file.
    return make_error(Errc::corrupt,
                      db_file.string() + " has unknown store schema version " + std::to_string(marks.user_version));
  }
  return {};
}

}  // namespace

Result<void> ensure_schema(sqlite3* db, const std::filesystem::path& db_file) {
  auto marks = read_marks(db, db_file);  // the first read: a non-SQLite file fails here
  if (!marks) return std::move(marks).error();
  if (marks->object_count != 0 || marks->application_id != 0) return check_marks(*marks, db_file);

  // Empty: create. Re-checked under the write lock, as another process may be creating it too.
  auto transaction = sqlite::Transaction::begin(db);
  if (!transaction) return std::move(transaction).error();
  marks = read_marks(db, db_file);
  if (!marks) return std::move(marks).error();
  if (marks->object_count != 0 || marks->application_id != 0) return check_marks(*marks, db_file);

  const std::string what = "cannot create the store schema in " + db_file.string();
  if (auto created = sqlite::exec(db, kSchemaSql, what); !created) return created;
  const std::string marks_sql = "PRAGMA application_id = " + std::to_string(kApplicationId) +
                                "; PRAGMA user_version = " + std::to_string(kSchemaVersion) + ";";
  if (auto marked = sqlite::exec(db, marks_sql.c_str(), what); !marked) return marked;
  return transaction->commit();
}

}  // namespace kelvin::store
