#include "small_db.hpp"

namespace kelvin::store::sqlite {
namespace {

struct SchemaMarks {
  std::int64_t application_id = 0;
  std::int64_t version = 0;
  std::int64_t objects = 0;
};

Result<SchemaMarks> read_marks(sqlite3* db) {
  auto application_id = query_integer(db, "PRAGMA application_id");
  if (!application_id) return std::move(application_id).error();
  auto version = query_integer(db, "PRAGMA user_version");
  if (!version) return std::move(version).error();
  auto objects = query_integer(db, "SELECT count(*) FROM sqlite_schema");
  if (!objects) return std::move(objects).error();
  return SchemaMarks{*application_id, *version, *objects};
}

// Nothing to do (false), create or upgrade (true), or the file is not ours to open (an error).
Result<bool> needs_work(const SchemaMarks& marks, const std::filesystem::path& db_file, const SmallDbSchema& schema) {
  if (marks.application_id == 0 && marks.objects == 0) return true;
  if (marks.application_id != schema.application_id) {
    return make_error(Errc::corrupt, db_file.string() + " is not kelvin's " + std::string(schema.what));
  }
  if (marks.version > schema.version) {
    return make_error(Errc::conflict, db_file.string() + " was written by a newer kelvin (" + std::string(schema.what) +
                                          " schema " + std::to_string(marks.version) + "); upgrade kelvin");
  }
  return marks.version < schema.version;
}

// Runs the migrations from `version` on, inside the caller's transaction.
Result<void> migrate(sqlite3* db, const std::filesystem::path& db_file, const SmallDbSchema& schema,
                     std::int64_t version) {
  for (const SmallDbMigration& step : schema.migrations) {
    if (step.from_version < version) continue;
    const std::string what = "cannot upgrade the " + std::string(schema.what) + " " + db_file.string() +
                             " from schema version " + std::to_string(step.from_version) + " to " +
                             std::to_string(step.from_version + 1) + ": " + std::string(step.doing);
    if (auto done = exec(db, step.sql, what); !done) return done;
  }
  return {};
}

Result<void> ensure_schema(sqlite3* db, const std::filesystem::path& db_file, const SmallDbSchema& schema) {
  auto marks = read_marks(db);
  if (!marks) return std::move(marks).error();
  auto work = needs_work(*marks, db_file, schema);
  if (!work) return std::move(work).error();
  if (!*work) return {};

  // Checked again under the write lock: another process may have done it meanwhile.
  auto transaction = Transaction::begin(db);
  if (!transaction) return std::move(transaction).error();
  marks = read_marks(db);
  if (!marks) return std::move(marks).error();
  work = needs_work(*marks, db_file, schema);
  if (!work) return std::move(work).error();
  if (!*work) return {};
  std::int64_t from = marks->version;
  if (marks->application_id == 0 && marks->objects == 0) {
    if (auto created = exec(db, schema.sql, "cannot create the " + std::string(schema.what) + " " + db_file.string());
        !created) {
      return created;
    }
    from = schema.migrations.empty() ? schema.version : schema.migrations.front().from_version;
  }
  if (auto migrated = migrate(db, db_file, schema, from); !migrated) return migrated;
  const std::string marks_sql = "PRAGMA application_id = " + std::to_string(schema.application_id) +
                                "; PRAGMA user_version = " + std::to_string(schema.version) + ";";
  if (auto marked = exec(db, marks_sql.c_str(), "cannot mark the " + std::string(schema.what) + " " + db_file.string());
      !marked) {
    return marked;
  }
  return transaction->commit();
}

}  // namespace

Result<std::int64_t> query_integer(sqlite3* db, const char* sql) {
  auto statement = Statement::prepare(db, sql);
  if (!statement) return std::move(statement).error();
  auto row = statement->step();
  if (!row) return std::move(row).error();
  return *row ? statement->column_int64(0) : 0;
}

Result<DatabasePtr> open_small_db(const std::filesystem::path& db_file, int busy_timeout_ms,
                                  const SmallDbSchema& schema) {
  auto opened = open_private_database(db_file, busy_timeout_ms, schema.what);
  if (!opened) return std::move(opened).error();
  DatabasePtr db = std::move(*opened);
  // WAL so a reader (a session lookup, a device asking for its update) never waits for another
  // process's write; FULL because what was written (a removed user, an aborted rollout) must stay
  // so after a power cut.
  if (auto configured = exec(db.get(),
                             "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                             " PRAGMA foreign_keys = ON; PRAGMA trusted_schema = OFF;",
                             "cannot configure the " + std::string(schema.what) + " " + db_file.string());
      !configured) {
    return std::move(configured).error();
  }
  if (auto created = ensure_schema(db.get(), db_file, schema); !created) return std::move(created).error();
  return db;
}

}  // namespace kelvin::store::sqlite
